// The OEE dashboard: log in, plant overview, machine page, shift report; live over /api/v1/live.
'use strict';
const $ = (sel, root = document) => root.querySelector(sel);
const S = window.OEE_STRINGS;
const main = $('#main');
const STATE_COLOURS = { running: '#1f9d55', stopped: '#d64545', setup: '#3b82f6', starved: '#e3a008', blocked: '#a855f7',
  planned_stop: '#9ca3af', unknown: '#d1d5db' };
// A kiosk keeps a read-only display token in localStorage (entered once, never in a URL).
let token = sessionStorage.getItem('oee-token') || localStorage.getItem('oee-display-token');
let me = null;
let reasonTree = { tree: false, reasons: [] };
let pageTimers = [];  // intervals of the page shown, cleared when the route changes
let plant = null;
let socket = null;
const kpis = new Map();    // node -> kpi object of the current shift
const states = new Map();  // machine -> state message

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const pct = (v) => (v === null || v === undefined ? '–' : (100 * v).toFixed(1) + '%');
const two = (n) => String(n).padStart(2, '0');
// A duration as h:mm:ss (a stop timer, the time left in a shift).
const clock = (s) => { s = Math.max(0, Math.floor(s)); return `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`; };
const sinceHtml = (st) => (st && st.state !== 'running' && st.since ? ` <span class="timer" data-since="${esc(st.since)}">${clock((serverNow() - Date.parse(st.since)) / 1000)}</span>` : '');
const stateText = (st) => '<span data-label>' + esc(st.state) + (st.reason ? ' · ' + esc(st.reason) : '') + '</span>' +
  (st.no_data ? ` <span class="nodata">${S.noData}</span>` : '');

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + token }, options.body ? { 'Content-Type': 'application/json' } : {});
  const r = await fetch(path, Object.assign({}, options, { headers }));
  if (r.status === 401) { logout(); throw new Error('please log in again'); }
  const body = r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new Error(body?.error?.message || ('HTTP ' + r.status));
  return body;
}

function logout() {
  if (token && sessionStorage.getItem('oee-token')) fetch('/api/v1/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + token } }).catch(() => {});
  token = null; me = null;
  sessionStorage.removeItem('oee-token');
  localStorage.removeItem('oee-display-token');
  if (socket) socket.close();
  showLogin();
}

function showLogin() {
  $('#who').textContent = '';
  $('#logout').hidden = true;
  main.replaceChildren($('#login-form').content.cloneNode(true));
  for (const el of main.querySelectorAll('[data-s]')) el.textContent = S[el.dataset.s];
  $('#login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    const r = await fetch('/api/v1/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: form.get('user'), password: form.get('password') }) });
    const body = await r.json();
    if (!r.ok) { $('#login-error').textContent = body.error.message; return; }
    token = body.token;
    sessionStorage.setItem('oee-token', token);
    start();
  });
  $('#display-login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const candidate = new FormData(ev.target).get('display_token').trim();
    const r = await fetch('/api/v1/me', { headers: { Authorization: 'Bearer ' + candidate } });
    if (!r.ok) { $('#display-error').textContent = S.displayTokenBad; return; }
    token = candidate;
    localStorage.setItem('oee-display-token', token);
    if (!location.hash.startsWith('#andon')) location.hash = '#andon';
    start();
  });
}

function connectLive() {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/live';
  // The token goes in Sec-WebSocket-Protocol (base64url: a protocol name allows no ':'), never in
  // the URL, which proxies and access logs keep.
  const bearer = btoa(String.fromCharCode(...new TextEncoder().encode(token))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const opened = Date.now();  // the server reads its clock for the hello after this
  socket = new WebSocket(url, ['oee.live.v1', 'bearer.' + bearer]);
  socket.onopen = subscribe;
  socket.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === 'hello') syncServerClock(m.now, m.clock_rate, opened);
    if (m.type === 'subscribed') $('#live').className = 'live on';
    for (const s of m.type === 'states' ? m.items : m.type === 'state' ? [m] : []) { states.set(s.machine, s); updateMachine(s.machine); }
    if (m.type === 'kpi') { kpis.set(m.node, m.kpi); updateKpi(m.node); refreshMachineCharts(m.node); }
  };
  socket.onclose = () => {
    $('#live').className = 'live off';
    if (token) setTimeout(connectLive, 2000);
  };
}

// Every machine's state (the whole plant), but the KPIs only of the nodes the page shows (kpiNodes:
// the overview's tiles on screen, the machine shown, the scoreboard's line): the server computes
// each subscribed node's figures every second, which for a thousand tiles took it seconds.
let kpiNodes = () => [];
function subscribe() {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'subscribe', nodes: [''], kpis: kpiNodes().slice(0, 256) }));
}
let subscribeTimer = null;
const resubscribe = () => { clearTimeout(subscribeTimer); subscribeTimer = setTimeout(subscribe, 150); };  // one per scroll
const visibleTiles = new Set();
let tileObserver = null;

function lines() {
  const out = [];
  for (const site of plant.sites) for (const area of site.areas) for (const line of area.lines) out.push(line);
  return out;
}
const machineSpec = (path) => lines().flatMap((l) => l.machines).find((m) => m.path === path);

// Good count and pace (units per hour of run time) of the current shift.
function countsHtml(k) {
  if (!k) return '<div class="counts" data-counts>–</div>';
  const pace = k.run_time_s > 0 ? Math.round((k.total_count * 3600) / k.run_time_s) : null;
  return `<div class="counts" data-counts>${S.good} <b>${k.good_count}</b>` +
    (pace === null ? '' : ` · <b>${pace}</b>${S.perHour}`) + '</div>';
}

function kpiHtml(node, target) {
  const k = kpis.get(node);
  const t = target || 0;
  const cls = k && k.oee !== null && t ? (k.oee >= t ? 'above' : 'below') : '';
  return `<div class="oee ${cls}" data-oee>${pct(k?.oee)}</div>` +
    `<div class="apq"><span>A <b>${pct(k?.availability)}</b></span><span>P <b>${pct(k?.performance)}</b></span>` +
    `<span>Q <b>${pct(k?.quality)}</b></span></div>` + countsHtml(k) + (t ? `<div class="apq">${S.target} ${pct(t)}</div>` : '');
}

const liveState = (m) => states.get(m.path) || m;
// Tiles by node path, so a live update finds its tile without scanning the page (1,000 machines).
const tileIndex = new Map();
function indexTiles() {
  tileIndex.clear();
  for (const el of main.querySelectorAll('.tile[data-node]')) tileIndex.set(el.dataset.node, el);
  tileObserver = new IntersectionObserver((entries) => {
    for (const e of entries) visibleTiles[e.isIntersecting ? 'add' : 'delete'](e.target.dataset.node);
    resubscribe();
  });
  for (const el of tileIndex.values()) tileObserver.observe(el);
  kpiNodes = () => [...visibleTiles];
}

function renderOverview() {
  main.innerHTML = lines().map((line) => `
    <section class="line">
      <h2>${esc(line.name)}</h2>
      <div class="tiles">
        <div class="tile line-tile" data-node="${esc(line.path)}"><h3>Line ${esc(line.name)}</h3>${kpiHtml(line.path)}</div>
        ${line.machines.map((m) => `
          <a class="tile st-${esc(liveState(m).state)}" href="#machine=${encodeURIComponent(m.path)}"
             data-node="${esc(m.path)}" data-machine="${esc(m.path)}">
            <h3>${esc(m.name)}</h3>
            <div class="state" data-state>${stateText(liveState(m))}${sinceHtml(liveState(m))}</div>
            ${kpiHtml(m.path, m.targets?.oee)}
          </a>`).join('')}
      </div>
    </section>`).join('');
  indexTiles();
}

function updateMachine(path) {
  const s = states.get(path);
  const el = tileIndex.get(path);
  if (el && el.isConnected && el.dataset.machine) {
    el.className = el.className.replace(/st-\w+/, 'st-' + s.state);
    const label = $('[data-state]', el);
    if (label) label.innerHTML = stateText(s) + sinceHtml(s);
  }
  const current = $('#machine-state');
  if (current && current.dataset.machine === path) current.innerHTML = stateText(s) + sinceHtml(s);
}

function updateKpi(node) {
  const el = tileIndex.get(node);
  if (el && el.isConnected) {
    const spec = machineSpec(node);
    const h3 = $('h3', el).outerHTML;
    const state = $('[data-state]', el)?.outerHTML || '';
    el.innerHTML = h3 + state + kpiHtml(node, spec?.targets?.oee);
  }
}

// Once a second: stop timers, the time left in the shift, the scoreboard (on the server's clock).
function tick() {
  const now = serverNow();
  for (const el of document.querySelectorAll('[data-since]')) el.textContent = clock((now - Date.parse(el.dataset.since)) / 1000);
  const shift = plant?.current_shift;
  const left = shift ? (Date.parse(shift.to) - now) / 1000 : null;
  // During one of the shift's breaks, its name (the plant file's) and the time left in it too.
  const pause = shift?.breaks?.find((b) => Date.parse(b.from) <= now && now < Date.parse(b.to));
  $('#shift-left').textContent = !plant ? '' : left === null ? S.noShift :
    S.shiftLeft(shift.name, clock(left)) + (pause ? S.onBreak(pause.name, clock((Date.parse(pause.to) - now) / 1000)) : '');
  // The shift is over: the plant tells the next one.
  if (plant && left !== null && left <= 0 && !tick.asking) {
    tick.asking = true;
    const asked = Date.now();
    api('/api/v1/plant').then((p) => { plant = p; syncServerClock(p.now, p.clock_rate, asked); }).catch(() => {}).finally(() => { tick.asking = false; });
  }
  if (location.hash.startsWith('#andon') && $('#andon')) renderAndonBody();
}

// The charts are uPlot's (charts.js); their times read in the plant's time zone.
const hhmm = (ms) => new Intl.DateTimeFormat('en-GB', { timeZone: plant.timezone, hour: '2-digit', minute: '2-digit' }).format(ms);
// A table's instant (RFC 3339 text, or epoch ms): date and time to the second in the plant's zone;
// the exact instant (with its offset, or milliseconds) on hover and in `datetime`. Empty for none.
function whenHtml(at) {
  if (at === undefined || at === null || at === '') return '';
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(ms)) return esc(at);
  const iso = typeof at === 'number' ? new Date(at).toISOString() : at;
  const text = new Intl.DateTimeFormat('sv-SE', { timeZone: plant.timezone, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);
  return `<time datetime="${esc(iso)}" title="${esc(iso)}">${esc(text)}</time>`;
}

function legendHtml(entries) {
  return '<ul class="legend">' + entries.map(([cls, label]) => `<li><span class="swatch ${cls}"></span>${esc(label)}</li>`).join('') + '</ul>';
}

async function renderMachine(path) {
  const m = machineSpec(path);
  if (!m) { main.innerHTML = '<p>No such machine.</p>'; return; }
  const s = states.get(path) || m;
  kpiNodes = () => [path];
  main.innerHTML = `
    <h1>${esc(m.name)} <small>${esc(path)}</small></h1>${m.description ? `<p class="description">${esc(m.description)}</p>` : ''}
    <div class="card"><b>Now:</b> <span id="machine-state" data-machine="${esc(path)}">${stateText(s)}${sinceHtml(s)}</span>
      <label class="no-print">Window <select id="window"><option value="shift">current shift</option><option value="day">last 24 h</option></select></label></div>
    <div class="card" id="chart-timeline"><h2>State timeline</h2>
      <div class="zoom no-print"><button id="zoom-in">${S.zoomIn}</button> <button id="zoom-out">${S.zoomOut}</button> <button id="zoom-reset">${S.zoomReset}</button></div>
      <div id="timeline" class="chart">…</div><p class="readout" aria-live="off"></p></div>
    <div class="grid2"><div class="card" id="chart-trend"><h2>OEE by hour</h2><div id="trend" class="chart">…</div></div>
    <div class="card" id="chart-machine-pareto"><h2>Loss Pareto (by reason)</h2><div id="pareto" class="chart">…</div></div></div>
    <div class="card"><h2>Stops</h2><p class="error" id="stop-error"></p><div id="stops">…</div><div id="picker-slot"></div></div>`;
  $('#window').addEventListener('change', () => loadMachine(path, true));
  const zoom = (factor) => { const u = chartOf('#timeline'); if (u) zoomChart(u, factor); };
  $('#zoom-in').addEventListener('click', () => zoom(0.5));
  $('#zoom-out').addEventListener('click', () => zoom(2));
  $('#zoom-reset').addEventListener('click', () => zoom(0));
  await loadMachine(path, true);
  machineExports();
}

// CSV and PNG of the machine page's charts (the buttons of analysis.js), what each chart shows.
function machineExports() {
  const rowsOf = (id) => machineExports.data[id] || [];
  exportButtons('chart-timeline', () => toCsv(['from', 'to', 'state', 'reason'], rowsOf('timeline').map((iv) => [iv.from, iv.to, iv.state, iv.reason])));
  exportButtons('chart-trend', () => toCsv(['from', 'oee', 'planned_production_time_s', 'no_data_s'], rowsOf('trend').map((r) => [r.from, r.oee, r.planned_production_time_s, r.no_data_s])));
  exportButtons('chart-machine-pareto', () => toCsv(['reason', 'seconds', 'stops'], rowsOf('pareto').map((b) => [b.name, b.seconds, b.stops ?? ''])));
}
machineExports.data = {};

// The charts follow the live feed: reloaded at most every 10 s while the machine's KPIs tick.
function refreshMachineCharts(node) {
  const shown = $('#machine-state')?.dataset.machine;
  if (shown !== node || $('#picker') || loadMachine.busy || Date.now() - (loadMachine.at || 0) < 10000) return;
  loadMachine(node).catch((e) => { $('#stop-error').textContent = e.message; });
}

function windowQuery() {
  const sel = $('#window');
  if (sel && sel.value === 'day') {
    const to = new Date(serverNow()), from = new Date(to - 24 * 3600 * 1000);
    return `&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  }
  return '';  // the server's default: the current shift so far
}

// `fresh`: a new page or window (the timeline shows all of it); a live refresh keeps the zoom. The
// charts get new data, not new canvases.
async function loadMachine(path, fresh = false) {
  loadMachine.busy = true;
  try {
    const q = 'node=' + encodeURIComponent(path) + windowQuery();
    const [timeline, trend, pareto, stops] = await Promise.all([
      api('/api/v1/timeline?machine=' + encodeURIComponent(path) + windowQuery()),
      api('/api/v1/kpis?by=hour&' + q), api('/api/v1/pareto?' + q), api('/api/v1/stops?limit=50&' + q)]);
    if ($('#machine-state')?.dataset.machine !== path) return;  // the page changed meanwhile
    timelineChart($('#timeline'), timeline.intervals, Date.parse(timeline.from), Date.parse(timeline.to), !fresh);
    trendChart($('#trend'), trend, machineSpec(path)?.targets?.oee, !fresh);
    paretoChart($('#pareto'), pareto.bars);
    machineExports.data = { timeline: timeline.intervals, trend, pareto: pareto.bars };
    renderStops(stops.items);
    loadMachine.at = Date.now();
    $('#trend').dataset.loaded = String(loadMachine.at);  // tests wait on a reload
  } finally {
    loadMachine.busy = false;
  }
}

function renderStops(items) {
  const picker = reasonTree.tree;
  $('#stops').innerHTML = `<table><thead><tr><th>From</th><th>Duration</th><th>Kind</th><th>Reason</th><th class="no-print"></th></tr></thead><tbody>` +
    items.map((s, i) => `<tr data-stop="${i}" data-planned-s="${s.planned_s}"><td>${esc(s.from.slice(11, 19))}</td><td>${(s.duration_s / 60).toFixed(1)} min</td>` +
      `<td>${esc(s.kind)}</td><td>${esc(s.reason || '—')}</td><td class="no-print">` +
      (picker ? `<button class="pick" data-machine="${esc(s.machine)}" data-at="${esc(s.from)}">${S.reasonPick}</button>` :
        `<input class="reason" aria-label="${S.reasonPlaceholder}" placeholder="${S.reasonPlaceholder}" value="">` +
        `<button class="assign" disabled data-machine="${esc(s.machine)}" data-at="${esc(s.from)}">${S.assign}</button>`) +
      '</td></tr>').join('') + '</tbody></table>';
  $('#stops').dataset.window = $('#window') ? $('#window').value : 'shift';  // what the table shows (tests wait on it)
  for (const b of document.querySelectorAll('button.pick')) b.addEventListener('click', () => openPicker(b.dataset.machine, b.dataset.at, null));
  for (const input of document.querySelectorAll('input.reason')) {
    input.addEventListener('input', () => { input.nextElementSibling.disabled = !input.value.trim(); });
  }
  for (const b of document.querySelectorAll('button.assign')) {
    b.addEventListener('click', () => sendReason(b.dataset.machine, b.dataset.at, b.previousElementSibling.value.trim()));
  }
}

// The reason tree, one tap per level: a parent shows its children, a leaf is sent (the operator
// station passes its own slot and sender).
function openPicker(machine, at, parent, slot = $('#picker-slot'), send = sendReason) {
  const options = reasonTree.reasons.filter((r) => (r.parent || null) === parent);
  const hasChildren = (code) => reasonTree.reasons.some((r) => r.parent === code);
  slot.innerHTML = `<div id="picker" class="picker" role="dialog" aria-label="${esc(S.reasonTitle(at.slice(11, 19)))}">` +
    `<h3>${esc(S.reasonTitle(at.slice(11, 19)))}${parent ? ' › ' + esc(parent) : ''}</h3><div class="options">` +
    options.map((r) => `<button class="reason-option${hasChildren(r.code) ? ' parent' : ''}" data-code="${esc(r.code)}">${esc(r.name)}</button>`).join('') +
    `</div>${parent ? `<button class="picker-back">${S.reasonBack}</button> ` : ''}<button class="picker-cancel">${S.reasonCancel}</button></div>`;
  for (const b of document.querySelectorAll('#picker .reason-option')) {
    b.addEventListener('click', () => (hasChildren(b.dataset.code) ? openPicker(machine, at, b.dataset.code, slot, send) : send(machine, at, b.dataset.code)));
  }
  const back = $('#picker .picker-back');
  if (back) back.addEventListener('click', () => openPicker(machine, at, reasonTree.reasons.find((r) => r.code === parent)?.parent || null, slot, send));
  $('#picker .picker-cancel').addEventListener('click', () => { slot.innerHTML = ''; });
  $('#picker .reason-option')?.focus();
}

async function sendReason(machine, at, reason) {
  if (!reason) { $('#stop-error').textContent = S.reasonEmpty; return; }  // the server refuses an empty reason
  try {
    await api('/api/v1/stops/reason', { method: 'POST', body: JSON.stringify({ machine, at, reason }) });
    $('#stop-error').textContent = '';
    $('#picker-slot').innerHTML = '';
    await loadMachine($('#machine-state').dataset.machine);
  } catch (e) {
    $('#stop-error').textContent = e.message;
  }
}

async function renderReport() {
  const [kpiPlant, paretoPlant] = await Promise.all([api('/api/v1/kpis'), api('/api/v1/pareto')]);
  const rows = await Promise.all(lines().map(async (l) => [l, await api('/api/v1/kpis?node=' + encodeURIComponent(l.path))]));
  const shift = plant.current_shift;
  main.innerHTML = `<div class="card"><h1>Shift report ${shift ? esc(shift.name) : ''}</h1>
    <p>${esc(kpiPlant.from)} – ${esc(kpiPlant.to)} · ${esc(plant.timezone)}</p>
    <button id="print">${S.print}</button>
    <table><thead><tr><th>Node</th><th>OEE</th><th>A</th><th>P</th><th>Q</th><th>Good</th><th>Reject</th><th>Downtime</th></tr></thead><tbody>
    ${[['Plant', kpiPlant], ...rows.map(([l, k]) => [l.name, k])].map(([n, k]) => `<tr><td>${esc(n)}</td><td>${pct(k.oee)}</td><td>${pct(k.availability)}</td>` +
      `<td>${pct(k.performance)}</td><td>${pct(k.quality)}</td><td>${k.good_count}</td><td>${k.reject_count}</td><td>${(k.downtime_s / 60).toFixed(0)} min</td></tr>`).join('')}
    </tbody></table></div><div class="card"><h2>Top losses</h2><div id="report-pareto" class="chart"></div></div>`;
  paretoChart($('#report-pareto'), paretoPlant.bars.slice(0, 10));
  // No inline handler: the page's Content-Security-Policy forbids them.
  $('#print').addEventListener('click', () => window.print());
}

// The scoreboard (TV, andon): one line at a time, rotating every 20 s unless one is named (#andon=PATH).
const ANDON_ROTATE_MS = 20000;
function renderAndon(pinned) {
  document.body.classList.add('tv');
  const all = lines();
  let index = Math.max(0, all.findIndex((l) => l.path === pinned || l.machines.some((m) => m.path === pinned)));
  main.innerHTML = `<div id="andon" data-line="${esc(all[index]?.path || '')}" data-pinned="${esc(pinned || '')}"></div>`;
  kpiNodes = () => { const l = lines().find((x) => x.path === $('#andon')?.dataset.line); return l ? [l.path, ...l.machines.map((m) => m.path)] : []; };
  renderAndonBody();
  if (!pinned) {
    pageTimers.push(setInterval(() => {
      index = (index + 1) % all.length;
      $('#andon').dataset.line = all[index].path;
      subscribe();
      renderAndonBody();
    }, ANDON_ROTATE_MS));
  }
}

// Good parts expected by now: what the planned time so far would give at the target OEE. Good count
// is proportional to OEE for a given product mix, so scaling the actual count keeps each product's
// own ideal rate; without output yet, the machine's default ideal cycle time stands in.
function goodTarget(m, k) {
  const t = m.targets?.oee;
  if (!k || !t || !(k.planned_production_time_s > 0)) return null;
  if (k.oee > 0) return Math.round((k.good_count * t) / k.oee);
  return m.ideal_cycle_time_s ? Math.round((k.planned_production_time_s / m.ideal_cycle_time_s) * t) : null;
}

function andonMachineHtml(m) {
  const st = liveState(m), k = kpis.get(m.path), target = goodTarget(m, k);
  const diff = target === null || !k ? null : k.good_count - target;
  return `<div class="andon-machine st-bg-${esc(st.state)}" data-machine-card="${esc(m.path)}">
    <h2>${esc(m.name)}</h2><div class="andon-state">${stateText(st)}${sinceHtml(st)}</div>
    <div class="andon-oee">OEE ${pct(k?.oee)}</div>
    <div class="andon-apq">A ${pct(k?.availability)} · P ${pct(k?.performance)} · Q ${pct(k?.quality)}</div>
    <div class="andon-count">${S.good} <b>${k ? k.good_count : '–'}</b>` +
    (target === null ? '' : ` / ${target} <small>${S.targetByNow}</small> <b class="${diff >= 0 ? 'ahead' : 'behind'}" data-diff="${diff}">` +
      `${Math.abs(diff)} ${diff >= 0 ? S.ahead : S.behind}</b>`) + '</div></div>';  // the word says the sign
}

function renderAndonBody() {
  const el = $('#andon');
  const line = lines().find((l) => l.path === el.dataset.line);
  if (!line) { el.innerHTML = ''; return; }
  const pinned = el.dataset.pinned;
  const machines = line.machines.filter((m) => !pinned || pinned === line.path || m.path === pinned);
  const k = kpis.get(line.path);
  el.innerHTML = `<div class="andon-head"><h1>${esc(line.name)}</h1><div class="andon-oee">OEE ${pct(k?.oee)}</div>` +
    `<div class="andon-apq">A ${pct(k?.availability)} · P ${pct(k?.performance)} · Q ${pct(k?.quality)}</div>` +
    `<div class="andon-left">${esc($('#shift-left').textContent)}</div></div>` +
    `<div class="andon-grid">${machines.map(andonMachineHtml).join('')}</div>`;
}

let routeGen = 0;
async function route() {
  if (!token || !plant) return;
  // A page still loading when the next one starts must not write its error over the new page.
  const gen = ++routeGen;
  for (const t of pageTimers) clearInterval(t);
  pageTimers = [];
  tileObserver?.disconnect();
  visibleTiles.clear();
  kpiNodes = () => [];
  document.body.classList.remove('tv');
  const hash = decodeURIComponent(location.hash.slice(1));
  try {
    if (hash.startsWith('machine=')) await renderMachine(hash.slice(8));
    else if (hash === 'report') await renderReport();
    else if (hash.startsWith('andon')) renderAndon(hash.slice(6));
    else if (hash.startsWith('analysis')) await renderAnalysis();
    else if (hash === 'admin') await renderAdmin();
    else if (hash.startsWith('operator')) await renderOperator(hash.slice(9));
    else renderOverview();
  } catch (e) {
    if (gen !== routeGen) return;
    main.innerHTML = `<p class="error">${esc(e.message)}</p>`;
  }
  resubscribe();
}

async function start() {
  try {
    me = await api('/api/v1/me');
    const asked = Date.now();
    [plant, reasonTree] = await Promise.all([api('/api/v1/plant').then((p) => (syncServerClock(p.now, p.clock_rate, asked), p)), api('/api/v1/reasons')]);
  } catch (e) {
    return;
  }
  $('#who').textContent = me.user + ' (' + me.role + ')';
  // The plant file's name, where it gives one, in the header and the window's title.
  if (plant.name) { $('.brand').textContent = plant.name; document.title = plant.name + ' · ' + S.appName; }
  $('#logout').hidden = false;
  $('#nav-admin').hidden = me.role !== 'admin';
  connectLive();
  sendOutbox();  // what the operator station could not send before a reload or a log-in
  await route();
}

window.addEventListener('hashchange', route);
$('#logout').addEventListener('click', logout);
setInterval(tick, 1000);
// After every script of the page has run: start() calls into operator.js (sendOutbox), which a
// fast /api/v1/me answer could otherwise reach before that script is loaded.
window.addEventListener('DOMContentLoaded', () => (token ? start() : showLogin()));
