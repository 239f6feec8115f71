// The operator station (#operator, #operator=PATH for a line's or a machine's): on a tablet, the
// open and recent stops of the operator's machines; a reason from the tree one tap per level, a note,
// splitting an ended stop in two parts with a reason each; starting and ending a run; reporting
// rejects. Every action goes to an outbox kept in localStorage
// and is sent (and retried) from there, so a poor network loses nothing and the screen always says
// what is not sent yet.
'use strict';

const OUTBOX_KEY = 'oee-outbox';
const STATION_KEY = 'oee-station-machines';
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 60000;
const STATION_STOPS_WINDOW_H = 8;  // "recent" stops: the last 8 hours
const STATION_STOPS_PAGE = 10;     // stops listed per machine at first, and added by "Older stops"
const stationStopsShown = new Map();  // machine -> how many of its stops to list (until the page is left)
const ST = S.station;

const readJson = (key, fallback) => {
  try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
};

// items: not sent yet, oldest first (sent in order: a run's start before its end); refused: answered
// with a 4xx the sender cannot mend by retrying, kept on screen until dismissed (never dropped silently).
const outbox = { items: readJson(OUTBOX_KEY, []), refused: [], waitMs: RETRY_MIN_MS, timer: null, sending: false };
const saveOutbox = () => localStorage.setItem(OUTBOX_KEY, JSON.stringify(outbox.items));

function enqueue(label, path, body) {
  outbox.items.push({ id: Date.now() + '-' + Math.random().toString(36).slice(2, 8), user: me?.user, label, path, body,
    queued: new Date().toISOString(), tries: 0, error: '' });
  saveOutbox();
  renderOutbox();
  sendOutbox();
}

// Whether an answer means "try again later" (the network, the server or the rate limit) rather than
// "never" (a bad request, a role too small).
const retryable = (status) => status >= 500 || status === 408 || status === 429 || status === 401;

// Sends the current user's actions in order; stops at the first that cannot be sent now and retries
// after a back-off doubling from 2 s to 60 s (sooner when the browser says it is back online).
async function sendOutbox() {
  if (outbox.sending || !token || !me) return;
  outbox.sending = true;
  clearTimeout(outbox.timer);
  let sent = false;
  try {
    for (let item = nextToSend(); item; item = nextToSend()) {
      const status = await postItem(item);
      if (status !== null && !retryable(status)) {
        outbox.items = outbox.items.filter((i) => i !== item);
        if (status >= 400) outbox.refused.push(item); else sent = true;
        saveOutbox();
        continue;
      }
      saveOutbox();  // its tries and error
      outbox.timer = setTimeout(sendOutbox, outbox.waitMs);
      outbox.waitMs = Math.min(RETRY_MAX_MS, outbox.waitMs * 2);
      break;
    }
    if (!nextToSend()) outbox.waitMs = RETRY_MIN_MS;
  } finally {
    outbox.sending = false;
    renderOutbox();
  }
  if (sent && $('#station')) loadStation();
}

const nextToSend = () => outbox.items.find((i) => i.user === me?.user);

// The answer's status, or null when the request did not reach the server; the reason in item.error.
async function postItem(item) {
  item.tries += 1;
  try {
    const r = await fetch(item.path, { method: 'POST', headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: JSON.stringify(item.body) });
    const answer = r.headers.get('content-type')?.includes('json') ? await r.json() : null;
    item.error = r.ok ? '' : answer?.error?.message || 'HTTP ' + r.status;
    return r.status;
  } catch (e) {
    item.error = ST.offline;
    return null;
  }
}

function renderOutbox() {
  const el = $('#outbox');
  if (!el) return;
  const waiting = outbox.items;
  el.className = 'card outbox' + (waiting.length ? ' waiting' : '') + (outbox.refused.length ? ' refused' : '');
  el.dataset.pending = String(waiting.length);
  el.innerHTML = (waiting.length ? `<h2>${ST.notSent(waiting.length)}</h2><ul>` + waiting.map((i) =>
    `<li data-pending-item="${esc(i.id)}">${esc(i.label)} <small>${esc(new Date(i.queued).toLocaleTimeString())}` +
    (i.user !== me?.user ? ` · ${esc(ST.waitsFor(i.user))}` : '') + (i.error ? ` · ${esc(i.error)}` : '') + '</small></li>').join('') +
    `</ul><button id="send-now">${ST.sendNow}</button>` : `<p class="sent">${ST.allSent}</p>`) +
    outbox.refused.map((i) => `<p class="error" data-refused-item="${esc(i.id)}">${esc(ST.refused(i.label, i.error))} ` +
      `<button class="dismiss" data-id="${esc(i.id)}">${ST.dismiss}</button></p>`).join('');
  $('#send-now')?.addEventListener('click', () => { outbox.waitMs = RETRY_MIN_MS; sendOutbox(); });
  for (const b of el.querySelectorAll('button.dismiss')) {
    b.addEventListener('click', () => { outbox.refused = outbox.refused.filter((i) => i.id !== b.dataset.id); renderOutbox(); });
  }
}

const stationMachines = () => readJson(STATION_KEY, []).filter((p) => machineSpec(p));
const machinesUnder = (path) => lines().flatMap((l) => l.machines).filter((m) => m.path === path || m.path.startsWith(path + '/')).map((m) => m.path);

async function renderOperator(pinned) {
  if (pinned && machinesUnder(pinned).length) localStorage.setItem(STATION_KEY, JSON.stringify(machinesUnder(pinned)));
  main.innerHTML = `<div id="station" class="station">
    <div id="outbox" class="card outbox" role="status" aria-live="polite"></div>
    <div class="card"><h1>${ST.title}</h1>${/^(operator|supervisor|admin)$/.test(me.role) ? '' : `<p class="error">${ST.needsOperator}</p>`}
      <details id="station-choose"${stationMachines().length ? '' : ' open'}><summary>${ST.choose}</summary>${machineChooserHtml()}</details></div>
    <p class="error" id="station-error" role="alert"></p><div id="station-dialog"></div><div id="station-machines"></div></div>`;
  for (const b of document.querySelectorAll('.station-toggle')) b.addEventListener('click', () => toggleMachine(b.dataset.path));
  renderOutbox();
  pageTimers.push(setInterval(followStates, 1000));
  await loadStation();
  sendOutbox();
}

function machineChooserHtml() {
  const chosen = stationMachines();
  return lines().map((l) => `<div class="station-line"><b>${esc(l.name)}</b> ` + l.machines.map((m) =>
    `<button class="station-toggle" data-path="${esc(m.path)}" aria-pressed="${chosen.includes(m.path)}">${esc(m.name)}</button>`).join(' ') + '</div>').join('');
}

function toggleMachine(path) {
  const chosen = stationMachines();
  const next = chosen.includes(path) ? chosen.filter((p) => p !== path) : chosen.concat(path);
  localStorage.setItem(STATION_KEY, JSON.stringify(next));
  $(`.station-toggle[data-path="${CSS.escape(path)}"]`).setAttribute('aria-pressed', String(next.includes(path)));
  loadStation();
}

// Each chosen machine's stops of the last hours and its open run, read afresh.
async function loadStation() {
  const gen = loadStation.gen = (loadStation.gen || 0) + 1;
  const from = new Date(serverNow() - STATION_STOPS_WINDOW_H * 3600e3).toISOString();
  const paths = stationMachines();
  let data;
  try {
    data = await stationReads(paths, from);
  } catch (e) {
    // A poor network: what is shown stays, the outbox keeps working.
    if ($('#station-error') && gen === loadStation.gen) $('#station-error').textContent = e.message;
    return;
  }
  const el = $('#station-machines');
  if (!el || gen !== loadStation.gen) return;  // another page, or a newer load
  $('#station-error').textContent = '';
  stationData.clear();
  for (const d of data) stationData.set(d.path, d);
  el.innerHTML = data.length ? data.map(stationMachineHtml).join('') : `<p class="card">${ST.noneChosen}</p>`;
  el.dataset.loaded = String(gen);  // tests wait on a reload
  bindStationButtons();
}
const stationData = new Map();  // machine -> { stops, runs } as last loaded

function stationReads(paths, from) {
  return Promise.all(paths.map(async (p) => {
    const [stops, runs] = await Promise.all([
      api(`/api/v1/stops?node=${encodeURIComponent(p)}&limit=${stationStopsShown.get(p) || STATION_STOPS_PAGE}&from=${encodeURIComponent(from)}`),
      api(`/api/v1/runs?machine=${encodeURIComponent(p)}&from=${encodeURIComponent(new Date(serverNow() - 7 * 86400e3).toISOString())}`)]);
    return { path: p, stops: stops.items, more: Boolean(stops.next), runs: runs.runs };
  }));
}

// The open run: the newest start still queued here without its end, else the server's open one.
function openRun(path) {
  let queued;
  for (const i of outbox.items) {
    if (i.path !== '/api/v1/runs' || i.body.machine !== path) continue;
    queued = i.body.action === 'start' ? i.body : null;
  }
  if (queued !== undefined) return queued;
  return (stationData.get(path)?.runs || []).filter((r) => r.end === null).pop() || null;
}

function stationMachineHtml(d) {
  const m = machineSpec(d.path), st = liveState(m), run = openRun(d.path);
  return `<section class="card station-machine" data-station-machine="${esc(d.path)}">
    <h2>${esc(m.name)}</h2><div class="state" data-station-state="${esc(st.state + '|' + (st.since || ''))}">${stateText(st)}${sinceHtml(st)}</div>
    <p class="station-run" data-run="${esc(run?.run || '')}">${run ? esc(ST.runOpen(run.run, run.product)) : ST.noRun}</p>
    <div class="station-actions">
      <button class="run-start" data-machine="${esc(d.path)}">${ST.startRun}</button>
      <button class="run-end" data-machine="${esc(d.path)}"${run ? '' : ' disabled'}>${ST.endRun}</button>
      <button class="rejects" data-machine="${esc(d.path)}">${ST.reportRejects}</button></div>
    <table class="station-stops"><thead><tr><th>${S.from}</th><th>${S.duration}</th><th>${ST.kind}</th><th>${S.reason}</th><th></th></tr></thead><tbody>` +
    d.stops.map((s, i) => `<tr data-stop="${i}" class="${s.to ? '' : 'open-stop'}"><td>${esc(s.from.slice(11, 19))}</td>` +
      `<td>${s.to ? clock(s.duration_s) : `<span class="timer" data-since="${esc(s.from)}">${clock((serverNow() - Date.parse(s.from)) / 1000)}</span>`}</td>` +
      `<td>${esc(s.kind)}</td><td>${esc(s.reason || '—')}${s.comments?.length ? ` <small>(${s.comments.length} ${ST.notes})</small>` : ''}</td><td class="station-stop-actions">` +
      (s.kind !== 'planned_stop' || s.reason ? `<button class="stop-reason" data-machine="${esc(d.path)}" data-at="${esc(s.from)}">${S.reasonPick}</button> ` : '') +
      (splittable(s) ? `<button class="stop-split" data-machine="${esc(d.path)}" data-at="${esc(s.from)}">${ST.split}</button> ` : '') +
      `<button class="stop-note" data-machine="${esc(d.path)}" data-at="${esc(s.from)}">${ST.note}</button></td></tr>`).join('') +
    `</tbody></table>${d.stops.length ? '' : `<p>${ST.noStops}</p>`}` +
    (d.more ? `<button class="stops-more" data-machine="${esc(d.path)}">${ST.olderStops}</button>` : '') + '</section>';
}

function bindStationButtons() {
  const on = (sel, fn) => { for (const b of document.querySelectorAll('#station-machines ' + sel)) b.addEventListener('click', () => fn(b.dataset.machine, b.dataset.at)); };
  on('.run-start', startRunDialog);
  on('.run-end', endRunDialog);
  on('.rejects', rejectsDialog);
  on('.stop-note', noteDialog);
  on('.stop-split', splitDialog);
  on('.stops-more', (machine) => {
    stationStopsShown.set(machine, (stationStopsShown.get(machine) || STATION_STOPS_PAGE) + STATION_STOPS_PAGE);
    loadStation();
  });
  on('.stop-reason', (machine, at) => openPicker(machine, at, null, $('#station-dialog'), (mm, aa, reason) => {
    $('#station-dialog').innerHTML = '';
    enqueue(ST.reasonLabel(machineSpec(mm).name, aa.slice(11, 19), reason), '/api/v1/stops/reason', { machine: mm, at: aa, reason });
  }));
}

// A dialog in the station's slot: `fields` HTML, an OK button that enqueues what `submit` returns.
function stationDialog(title, fields, okText, submit) {
  const slot = $('#station-dialog');
  slot.innerHTML = `<form id="station-form" class="picker card" role="dialog" aria-label="${esc(title)}"><h3>${esc(title)}</h3>${fields}` +
    `<div class="options"><button type="submit" class="dialog-ok">${okText}</button> <button type="button" class="dialog-cancel">${S.reasonCancel}</button></div></form>`;
  $('#station-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const action = submit(new FormData(ev.target));
    if (!action) return;
    slot.innerHTML = '';
    enqueue(...action);
    loadStation();
  });
  $('#station-form .dialog-cancel').addEventListener('click', () => { slot.innerHTML = ''; });
  $('#station-form input, #station-form textarea, #station-form .dialog-ok')?.focus();
}

// The instant the operator acts, on the server's clock (the stops' and the runs' clock).
const nowIso = () => new Date(serverNow()).toISOString();
const nameOf = (path) => machineSpec(path).name;

function startRunDialog(machine) {
  const product = liveState(machineSpec(machine)).product || '';
  stationDialog(ST.startRunOn(nameOf(machine)),
    `<label>${ST.runId} <input name="run" required maxlength="128" autocomplete="off"></label>` +
    `<label>${ST.product} <input name="product" required maxlength="256" value="${esc(product)}"></label>` +
    `<label>${ST.quantity} <input name="quantity" type="number" inputmode="numeric" min="1" step="1" required></label>`,
    ST.startRun, (f) => [ST.runStartLabel(nameOf(machine), f.get('run')), '/api/v1/runs',
      { machine, action: 'start', run: f.get('run').trim(), product: f.get('product').trim(), quantity: Number(f.get('quantity')), ts: nowIso() }]);
}

function endRunDialog(machine) {
  const run = openRun(machine);
  if (!run) return;
  stationDialog(ST.endRunOn(run.run, nameOf(machine)), '', ST.endRun,
    () => [ST.runEndLabel(nameOf(machine), run.run), '/api/v1/runs', { machine, action: 'end', run: run.run, ts: nowIso() }]);
}

function rejectsDialog(machine) {
  stationDialog(ST.rejectsOn(nameOf(machine)),
    `<div class="stepper"><button type="button" class="step" data-step="-1" aria-label="${ST.less}">−</button>` +
    `<input name="reject" type="number" inputmode="numeric" min="1" step="1" value="1" required aria-label="${ST.rejectCount}">` +
    `<button type="button" class="step" data-step="1" aria-label="${ST.more}">+</button></div>`,
    ST.reportRejects, (f) => {
      const n = Number(f.get('reject'));
      return Number.isInteger(n) && n >= 1 ? [ST.rejectsLabel(nameOf(machine), n), '/api/v1/rejects', { machine, reject: n, ts: nowIso() }] : null;
    });
  for (const b of document.querySelectorAll('#station-form .step')) {
    b.addEventListener('click', () => {
      const input = $('#station-form input[name=reject]');
      input.value = String(Math.max(1, (Number(input.value) || 0) + Number(b.dataset.step)));
    });
  }
}

function noteDialog(machine, at) {
  stationDialog(ST.noteOn(at.slice(11, 19), nameOf(machine)),
    `<label>${ST.note} <textarea name="text" rows="3" maxlength="2000" required></textarea></label>`, ST.saveNote,
    (f) => (f.get('text').trim() ? [ST.noteLabel(nameOf(machine), at.slice(11, 19)), '/api/v1/stops/comment', { machine, at, text: f.get('text').trim() }] : null));
}

// An ended unplanned stop of at least 3 s (a whole second inside it, one away from each end) can be
// split (POST /api/v1/stops/split); an open one gets its reason now and is split once it has ended.
const UNPLANNED = ['stopped', 'setup', 'starved', 'blocked'];
const splittable = (s) => s.to && UNPLANNED.includes(s.state) && Date.parse(s.to) - Date.parse(s.from) >= 3000;

// `ms` as RFC 3339 in the offset of `like` (a time of the server's, e.g. "…+01:00"), so the split
// reads as the stop list's times do.
function inOffsetOf(ms, like) {
  const m = /([+-])(\d\d):(\d\d)$/.exec(like);
  const offsetMs = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000 : 0;
  return new Date(ms + offsetMs).toISOString().slice(0, 19) + (m ? m[0] : 'Z');
}

// Split: the instant (a slider and steps of 10 s and 1 min, inside the stop), then each part's
// reason: one tap per level from the tree, or typed without one.
function splitDialog(machine, at) {
  const stop = stationData.get(machine)?.stops.find((s) => s.from === at);
  if (!stop) return;
  const from = Date.parse(stop.from), to = Date.parse(stop.to);
  const lo = Math.ceil((from + 1000) / 1000), hi = Math.floor((to - 1000) / 1000);  // whole seconds inside
  const typed = !reasonTree.tree;
  stationDialog(ST.splitOn(at.slice(11, 19), nameOf(machine)),
    `<p class="split-at">${ST.splitAt} <b id="split-time"></b></p><p class="split-parts" id="split-parts"></p>` +
    `<input id="split-range" name="split" type="range" min="${lo}" max="${hi}" step="1" value="${Math.round((lo + hi) / 2)}" aria-label="${ST.splitAt}">` +
    `<div class="stepper">` + [-60, -10, 10, 60].map((d) => `<button type="button" class="split-step" data-step="${d}">${ST.splitStep(d)}</button>`).join('') + '</div>' +
    (typed ? `<label>${ST.partReason(1)} <input name="before" required maxlength="128"></label><label>${ST.partReason(2)} <input name="after" required maxlength="128"></label>` : ''),
    typed ? ST.split : ST.splitNext, (f) => {
      const split = inOffsetOf(Number(f.get('split')) * 1000, at);
      if (typed) return f.get('before').trim() && f.get('after').trim() ? splitAction(machine, at, split, f.get('before').trim(), f.get('after').trim()) : null;
      pickPartReasons(machine, at, split);
      return null;
    });
  const range = $('#split-range');
  const show = () => {
    const t = Number(range.value) * 1000;
    $('#split-time').textContent = inOffsetOf(t, at).slice(11, 19);
    $('#split-parts').textContent = ST.splitParts(clock((t - from) / 1000), clock((to - t) / 1000));
  };
  range.addEventListener('input', show);
  for (const b of document.querySelectorAll('#station-form .split-step')) {
    b.addEventListener('click', () => { range.value = String(Math.min(hi, Math.max(lo, Number(range.value) + Number(b.dataset.step)))); show(); });
  }
  show();
}

// The tree's pickers, one part after the other, in the dialog's slot; the split is queued once both
// parts have their reason.
function pickPartReasons(machine, at, split) {
  const slot = $('#station-dialog');
  openPicker(machine, at, null, slot, (m1, a1, before) => openPicker(machine, split, null, slot, (m2, a2, after) => {
    slot.innerHTML = '';
    enqueue(...splitAction(machine, at, split, before, after));
  }));
}

const splitAction = (machine, at, split, before, after) => [ST.splitLabel(nameOf(machine), at.slice(11, 19), split.slice(11, 19), before, after),
  '/api/v1/stops/split', { machine, at, split, before, after }];

// Live states from the feed: a machine whose state changed gets its line redrawn, and its stops
// read again (a new stop began, or the open one ended).
function followStates() {
  let changed = false;
  for (const el of document.querySelectorAll('[data-station-state]')) {
    const m = machineSpec(el.closest('[data-station-machine]').dataset.stationMachine), st = liveState(m);
    const key = st.state + '|' + (st.since || '');
    if (el.dataset.stationState === key) continue;
    el.dataset.stationState = key;
    el.innerHTML = stateText(st) + sinceHtml(st);
    changed = true;
  }
  if (changed && !$('#station-form') && !$('#picker')) loadStation().catch(() => {});
}

window.addEventListener('online', () => { outbox.waitMs = RETRY_MIN_MS; sendOutbox(); });
