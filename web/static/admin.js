// The administration page (#admin, the admin role): users and roles, API tokens, edges and sources
// (status, queue depth, sequence gaps, clock offset, conflicts), dead letters, alert rules and
// alerts, and the audit trail with its verification, over the API's own routes (docs/api.md). Each card loads on its own, so
// one refusal or failure shows in its card and the others still work.
'use strict';

const AS = S.admin;
const ADMIN_ROLES = ['display', 'viewer', 'operator', 'supervisor', 'admin'];
const adminRoleOptions = (selected) => ADMIN_ROLES.map((r) => `<option${r === selected ? ' selected' : ''}>${r}</option>`).join('');
const adminTable = (head, rows) => `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
const adminPost = (path, body) => api(path, { method: 'POST', body: JSON.stringify(body) });

const ADMIN_CARDS = { users: adminUsers, tokens: adminTokens, sources: adminSources, deadLetters: adminDeadLetters, alerts: adminAlerts, audit: adminAudit };

async function renderAdmin() {
  main.innerHTML = `<h1>${AS.title}</h1><nav class="admin-nav">` +
    Object.keys(ADMIN_CARDS).map((k) => `<a href="#admin-${k}" data-card="${k}">${AS.cards[k]}</a>`).join(' ') + '</nav>' +
    Object.keys(ADMIN_CARDS).map((k) => `<section class="card" id="admin-${k}"><h2>${AS.cards[k]}</h2><p class="error" data-error></p><div data-body>…</div></section>`).join('');
  // In-page links without touching the route (the hash names the page).
  for (const a of main.querySelectorAll('.admin-nav a')) {
    a.addEventListener('click', (ev) => { ev.preventDefault(); document.getElementById('admin-' + a.dataset.card).scrollIntoView(); });
  }
  await Promise.all(Object.keys(ADMIN_CARDS).map((k) => adminLoad(k)));
}

// (Re)loads one card; `arg` is the card's own state (a page cursor).
async function adminLoad(key, arg) {
  const card = document.getElementById('admin-' + key);
  if (!card) return;
  try {
    await ADMIN_CARDS[key](card.querySelector('[data-body]'), arg);
    card.querySelector('[data-error]').textContent = '';
  } catch (e) {
    card.querySelector('[data-error]').textContent = e.message;
  }
  card.dataset.loaded = String(Date.now());  // tests wait on a reload
}

// Runs an action of a card, then reloads it; a refusal shows in the card.
async function adminAct(key, action) {
  const card = document.getElementById('admin-' + key);
  try {
    const result = await action();
    await adminLoad(key);
    return result;
  } catch (e) {
    card.querySelector('[data-error]').textContent = e.message;
    return null;
  }
}

const adminOn = (root, sel, fn) => { for (const el of root.querySelectorAll(sel)) el.addEventListener('click', () => fn(el)); };

// A destructive button asks once more on the spot (no dialog: a kiosk or a test has none).
function adminConfirm(el, run) {
  if (el.dataset.armed) return run();
  el.dataset.armed = '1';
  el.textContent = AS.confirm;
  return null;
}

async function adminUsers(body) {
  const users = await api('/api/v1/users');
  body.innerHTML = adminTable([AS.name, AS.role, AS.created, AS.fullName, AS.email, ''], users.map((u) => `<tr data-user="${esc(u.name)}"><td>${esc(u.name)}</td>` +
    `<td><select class="user-role" aria-label="${esc(AS.role)} ${esc(u.name)}">${adminRoleOptions(u.role)}</select></td><td>${whenHtml(u.created)}</td>` +
    `<td>${esc(u.full_name || '')}</td><td>${esc(u.email || '')}</td><td><button class="user-save">${AS.saveRole}</button> ` +
    `<button class="user-erase danger">${AS.erase}</button></td></tr>`)) +
    `<form class="admin-form" id="user-add"><label>${AS.name} <input name="name" required autocomplete="off"></label>` +
    `<label>${AS.password} <input name="password" type="password" required autocomplete="new-password"></label>` +
    `<label>${AS.role} <select name="role">${adminRoleOptions('viewer')}</select></label><button type="submit">${AS.addUser}</button></form>`;
  const nameOf = (el) => el.closest('tr').dataset.user;
  adminOn(body, '.user-save', (el) => adminAct('users', () => adminPost('/api/v1/users/update', { name: nameOf(el), role: el.closest('tr').querySelector('.user-role').value })));
  adminOn(body, '.user-erase', (el) => adminConfirm(el, () => adminAct('users', () => adminPost('/api/v1/users/erase', { name: nameOf(el) }))));
  body.querySelector('#user-add').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    adminAct('users', () => adminPost('/api/v1/users', { name: f.get('name'), password: f.get('password'), role: f.get('role') }));
  });
}

async function adminTokens(body) {
  const tokens = await api('/api/v1/tokens');
  body.innerHTML = `<output id="token-secret" class="secret" aria-live="polite"></output>` +
    adminTable([AS.id, AS.name, AS.user, AS.role, AS.kind, AS.created, AS.expires, ''], tokens.map((t) => `<tr data-token="${esc(t.id)}"><td><code>${esc(t.id)}</code></td>` +
      `<td>${esc(t.name)}</td><td>${esc(t.user)}</td><td>${esc(t.role)}</td><td>${esc(t.kind)}</td><td>${whenHtml(t.created)}</td><td>${whenHtml(t.expires)}</td><td>` +
      (t.kind === 'api' ? `<button class="token-rotate">${AS.rotate}</button> <button class="token-revoke danger">${AS.revoke}</button>` : '') + '</td></tr>')) +
    `<form class="admin-form" id="token-add"><label>${AS.name} <input name="name" required autocomplete="off"></label>` +
    `<label>${AS.role} <select name="role">${adminRoleOptions('display')}</select></label><button type="submit">${AS.addToken}</button></form>`;
  const idOf = (el) => el.closest('tr').dataset.token;
  // The secret is shown once, after the reload that lists the new token.
  const showSecret = (r) => { if (r) $('#token-secret').textContent = AS.secretOnce(r.token); };
  adminOn(body, '.token-revoke', (el) => adminConfirm(el, () => adminAct('tokens', () => adminPost('/api/v1/tokens/revoke', { id: idOf(el) }))));
  adminOn(body, '.token-rotate', async (el) => showSecret(await adminAct('tokens', () => adminPost('/api/v1/tokens/rotate', { id: idOf(el) }))));
  body.querySelector('#token-add').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    showSecret(await adminAct('tokens', () => adminPost('/api/v1/tokens', { name: f.get('name'), role: f.get('role') })));
  });
}

// The edges' status reports (state, queue depth and size, what awaits the server's commit, resends,
// oldest unsent event, evicted; a degraded edge's disk error), then every source of events (an
// edge's by its `src`): sequence gaps, clock offset, conflicts. A source silent for more than 5
// minutes shows as such. An edge's will (`offline`, set by the broker when it drops the edge) has
// no time and no figures: those cells stay empty.
const SOURCE_SILENT_MS = 5 * 60000;
// An age under a second in ms (a live edge's oldest unsent event is that young), else h:mm:ss.
const adminAge = (ms) => (ms === undefined ? '' : ms < 1000 ? `${ms} ms` : clock(ms / 1000));
// A clock offset: the sign says ahead (+) or behind; beyond a second as h:mm:ss (a demo feed running
// ahead of time is minutes off, which as ms was unreadable).
const adminOffset = (ms) => (Math.abs(ms) < 1000 ? `${ms} ms` : (ms < 0 ? '-' : '+') + clock(Math.abs(ms) / 1000));
const adminBytes = (n) => (n === undefined ? '' : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
function adminEdgeRow(e) {
  const s = e.status || {};
  const state = s.state === undefined ? e.problem : s.io_error ? `${s.state}: ${s.io_error}` : s.state;
  return `<tr data-edge="${esc(e.edge)}"><td>${esc(e.edge)}</td><td>${esc(state)}</td><td>${whenHtml(s.ts)}</td>` +
    `<td>${s.queue_depth ?? ''}</td><td>${adminBytes(s.queue_bytes)}</td><td>${s.awaiting_commit ?? ''}</td><td>${s.resends ?? ''}</td>` +
    `<td>${adminAge(s.oldest_unsent_age_ms)}</td><td>${s.evicted_events ?? ''}</td></tr>`;
}
async function adminSources(body) {
  const [edges, sources, conflicts] = await Promise.all([api('/api/v1/edges'), api('/api/v1/sources?limit=1000'), api('/api/v1/conflicts?limit=20')]);
  // On the server's clock: last_seen is the server's time (the demo's runs ahead of the browser's).
  const silent = (s) => !s.last_seen || serverNow() - Date.parse(s.last_seen) >= SOURCE_SILENT_MS;
  body.innerHTML = `<h3>${AS.edgesTitle}</h3>` + (edges.length ? adminTable([AS.edge, AS.state, AS.reported, AS.queueDepth, AS.queueBytes,
    AS.awaitingCommit, AS.resends, AS.oldestUnsent, AS.evicted], edges.map(adminEdgeRow)) : `<p>${AS.noEdges}</p>`) +
    `<h3>${AS.sourcesTitle}</h3>` +
    adminTable([AS.source, AS.incarnation, AS.status, AS.events, AS.seq, AS.gaps, AS.lastSeen, AS.clockOffset, AS.future, AS.conflicts],
      sources.map((s) => `<tr data-src="${esc(s.src)}"><td>${esc(s.src)}</td><td>${esc(s.incarnation)}</td><td class="src-${silent(s) ? 'silent' : 'online'}">${silent(s) ? AS.silent : AS.online}</td>` +
        `<td>${s.events}</td><td>${s.seq_min}–${s.seq_max}</td><td title="${esc(JSON.stringify(s.gaps))}">${s.gaps.length}</td><td>${whenHtml(s.last_seen)}</td>` +
        `<td>${adminOffset(s.clock_offset_ms)}</td><td>${s.future_events}</td><td>${s.conflicts}</td></tr>`)) +
    `<h3>${AS.conflictsTitle(conflicts.total)}</h3>` +
    adminTable([AS.received, AS.source, AS.seq, AS.machine, AS.stored, AS.version], conflicts.items.map((c) => `<tr><td>${whenHtml(c.received)}</td><td>${esc(c.src)}</td>` +
      `<td>${c.seq}</td><td>${esc(c.machine)}</td><td><code>${esc(c.stored)}</code></td><td><code>${esc(c.version)}</code></td></tr>`));
}

// Newest first, a page at a time: `before` is the oldest id shown (the API's next_before).
async function adminPaged(body, key, route, before, head, row) {
  const page = await api(`${route}?limit=50${before ? '&before=' + encodeURIComponent(before) : ''}`);
  body.innerHTML = (page.total !== undefined ? `<p>${AS.total(page.total)}</p>` : '') + adminTable(head, page.items.map(row)) +
    `<div class="pager">${before ? `<button class="page-newest">${AS.newest}</button> ` : ''}` +
    (page.items.length && page.next_before ? `<button class="page-older">${AS.older}</button>` : '') + '</div>';
  adminOn(body, '.page-newest', () => adminLoad(key));
  adminOn(body, '.page-older', () => adminLoad(key, page.next_before));
}

function adminDeadLetters(body, before) {
  return adminPaged(body, 'deadLetters', '/api/v1/dead-letters', before, [AS.id, AS.received, AS.topic, AS.reason, AS.payload],
    (d) => `<tr data-dead-letter="${d.id}"><td>${d.id}</td><td>${whenHtml(d.received)}</td><td>${esc(d.topic)}</td><td>${esc(d.reason)}</td>` +
      `<td><code class="payload">${esc(String(d.payload).slice(0, 300))}</code></td></tr>`);
}

// The plant file's rules, then the alerts they raised, firing first; acknowledging one enters the
// audit trail. An id (rule and subject) may be listed for several episodes: a row's button
// acknowledges its own (`fired_at`), not one that fired after the list was read.
async function adminAlerts(body) {
  const [rules, alerts] = await Promise.all([api('/api/v1/alerts/rules'), api('/api/v1/alerts')]);
  body.innerHTML = `<h3>${AS.rulesTitle}</h3>` + (rules.length ? adminTable([AS.rule, AS.kindCol, AS.subject, AS.forS, AS.target],
    rules.map((r) => `<tr data-rule="${esc(r.name)}"><td>${esc(r.name)}</td><td>${esc(r.kind)}</td><td>${esc((r.node ?? r.edge) || AS.every)}</td>` +
      `<td>${r.for_s ? clock(r.for_s) : ''}</td><td>${r.kind === 'oee_below_target' ? (r.target === null ? AS.machineTarget : pct(r.target)) : ''}</td></tr>`)) : `<p>${AS.noRules}</p>`) +
    `<h3>${AS.alertsTitle}</h3>` + (alerts.length ? adminTable([AS.rule, AS.kindCol, AS.subject, AS.state, AS.firedAt, AS.resolvedAt, AS.acknowledged, ''],
    alerts.map((a) => `<tr data-alert="${esc(a.id)}" data-fired="${esc(a.fired_at)}" class="alert-${esc(a.state)}"><td>${esc(a.rule)}</td><td>${esc(a.kind)}</td><td>${esc(a.subject)}</td>` +
      `<td>${esc(a.state)}</td><td>${whenHtml(a.fired_at)}</td><td>${whenHtml(a.resolved_at)}</td><td>${esc(a.acknowledged_by || '')}</td>` +
      `<td>${a.acknowledged_by ? '' : `<button class="alert-ack">${AS.acknowledge}</button>`}</td></tr>`)) : `<p>${AS.noAlerts}</p>`);
  adminOn(body, '.alert-ack', (el) => adminAct('alerts', () => adminPost('/api/v1/alerts/acknowledge',
    { id: el.closest('tr').dataset.alert, fired_at: el.closest('tr').dataset.fired })));
}

async function adminAudit(body, before) {
  await adminPaged(body, 'audit', '/api/v1/audit', before, [AS.id, AS.ts, AS.actor, AS.action, AS.target, AS.change],
    (r) => `<tr data-audit="${r.id}"><td>${r.id}</td><td>${whenHtml(r.ts)}</td><td>${esc(r.actor)}</td><td>${esc(r.action)}</td><td>${esc(r.target)}</td>` +
      `<td><code>${esc(r.before)}</code> → <code>${esc(r.after)}</code></td></tr>`);
  body.insertAdjacentHTML('afterbegin', `<button id="audit-verify">${AS.verify}</button> <output id="audit-result" aria-live="polite"></output>`);
  body.querySelector('#audit-verify').addEventListener('click', async () => {
    const out = $('#audit-result');
    try {
      const v = await api('/api/v1/audit/verify');
      out.className = v.ok ? 'verified' : 'error';
      out.textContent = v.ok ? AS.verified(v.rows) : AS.tampered(v.first_bad_id, v.problem);
    } catch (e) {
      out.className = 'error';
      out.textContent = e.message;
    }
  });
}
