// The OEE dashboard: log in, plant overview, machine page, shift report; live over /api/v1/live.
'use strict';
const $ = (sel, root = document) => root.querySelector(sel);
const main = $('#main');
const STATE_COLOURS = { running: '#1f9d55', stopped: '#d64545', setup: '#3b82f6', starved: '#e3a008', blocked: '#a855f7',
  planned_stop: '#9ca3af', unknown: '#d1d5db' };
let token = sessionStorage.getItem('oee-token');
let me = null;
let plant = null;
let socket = null;
const kpis = new Map();    // node -> kpi object of the current shift
const states = new Map();  // machine -> state message

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const pct = (v) => (v === null || v === undefined ? '–' : (100 * v).toFixed(1) + '%');

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + token }, options.body ? { 'Content-Type': 'application/json' } : {});
  const r = await fetch(path, Object.assign({}, options, { headers }));
  if (r.status === 401) { logout(); throw new Error('please log in again'); }
  const body = r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new Error(body?.error?.message || ('HTTP ' + r.status));
  return body;
}

function logout() {
  if (token) fetch('/api/v1/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + token } }).catch(() => {});
  token = null; me = null;
  sessionStorage.removeItem('oee-token');
  if (socket) socket.close();
  showLogin();
}

function showLogin() {
  $('#who').textContent = '';
  $('#logout').hidden = true;
  main.replaceChildren($('#login-form').content.cloneNode(true));
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
}

function connectLive() {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/live?access_token=' + encodeURIComponent(token);
  socket = new WebSocket(url);
  // Every machine's state (under the plant), and the KPIs of each line and machine shown.
  const nodes = [''].concat(lines().flatMap((l) => [l.path, ...l.machines.map((m) => m.path)]));
  socket.onopen = () => socket.send(JSON.stringify({ type: 'subscribe', nodes }));
  socket.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === 'subscribed') $('#live').className = 'live on';
    for (const s of m.type === 'states' ? m.items : m.type === 'state' ? [m] : []) { states.set(s.machine, s); updateMachine(s.machine); }
    if (m.type === 'kpi') { kpis.set(m.node, m.kpi); updateKpi(m.node); }
  };
  socket.onclose = () => {
    $('#live').className = 'live off';
    if (token) setTimeout(connectLive, 2000);
  };
}

function lines() {
  const out = [];
  for (const site of plant.sites) for (const area of site.areas) for (const line of area.lines) out.push(line);
  return out;
}
const machineSpec = (path) => lines().flatMap((l) => l.machines).find((m) => m.path === path);

function kpiHtml(node, target) {
  const k = kpis.get(node);
  const t = target || 0;
  const cls = k && k.oee !== null && t ? (k.oee >= t ? 'above' : 'below') : '';
  return `<div class="oee ${cls}" data-oee>${pct(k?.oee)}</div>` +
    `<div class="apq"><span>A <b>${pct(k?.availability)}</b></span><span>P <b>${pct(k?.performance)}</b></span>` +
    `<span>Q <b>${pct(k?.quality)}</b></span></div>` + (t ? `<div class="apq">target ${pct(t)}</div>` : '');
}

function renderOverview() {
  main.innerHTML = lines().map((line) => `
    <section class="line">
      <h2>${esc(line.name)}</h2>
      <div class="tiles">
        <div class="tile line-tile" data-node="${esc(line.path)}"><h3>Line ${esc(line.name)}</h3>${kpiHtml(line.path)}</div>
        ${line.machines.map((m) => `
          <a class="tile st-${esc(states.get(m.path)?.state || m.state)}" href="#machine=${encodeURIComponent(m.path)}"
             data-node="${esc(m.path)}" data-machine="${esc(m.path)}">
            <h3>${esc(m.name)}</h3>
            <div class="state" data-state>${esc(states.get(m.path)?.state || m.state)}${m.reason ? ' · ' + esc(m.reason) : ''}</div>
            ${kpiHtml(m.path, m.targets?.oee)}
          </a>`).join('')}
      </div>
    </section>`).join('');
}

function updateMachine(path) {
  const s = states.get(path);
  for (const el of document.querySelectorAll(`[data-machine="${CSS.escape(path)}"]`)) {
    el.className = el.className.replace(/st-\w+/, 'st-' + s.state);
    const label = $('[data-state]', el);
    if (label) label.textContent = s.state + (s.reason ? ' · ' + s.reason : '');
  }
  const current = $('#machine-state');
  if (current && current.dataset.machine === path) current.textContent = s.state + (s.reason ? ' · ' + s.reason : '');
}

function updateKpi(node) {
  for (const el of document.querySelectorAll(`.tile[data-node="${CSS.escape(node)}"]`)) {
    const spec = machineSpec(node);
    const h3 = $('h3', el).outerHTML;
    const state = $('[data-state]', el)?.outerHTML || '';
    el.innerHTML = h3 + state + kpiHtml(node, spec?.targets?.oee);
  }
}

// Hand-made SVG charts: a state timeline, a trend line, a Pareto bar chart.
function timelineSvg(intervals, from, to) {
  const w = 1000, h = 40, t0 = Date.parse(from), span = Date.parse(to) - t0;
  const rects = intervals.map((iv) => {
    const x = ((Date.parse(iv.from) - t0) / span) * w, x2 = ((Date.parse(iv.to) - t0) / span) * w;
    return `<rect x="${x.toFixed(1)}" y="0" width="${Math.max(0.5, x2 - x).toFixed(1)}" height="${h}" fill="${STATE_COLOURS[iv.state] || '#000'}"><title>${esc(iv.state)} ${esc(iv.reason || '')} ${esc(iv.from)} – ${esc(iv.to)}</title></rect>`;
  }).join('');
  return `<svg viewBox="0 0 ${w} ${h + 16}" width="100%" role="img" aria-label="state timeline">${rects}` +
    `<text x="0" y="${h + 13}">${esc(from.slice(11, 16))}</text><text x="${w}" y="${h + 13}" text-anchor="end">${esc(to.slice(11, 16))}</text></svg>`;
}

function trendSvg(rows) {
  const w = 500, h = 160, n = Math.max(1, rows.length - 1);
  const pts = rows.map((r, i) => [(i / n) * w, h - (r.oee ?? 0) * h]);
  return `<svg viewBox="-30 -10 ${w + 40} ${h + 30}" width="100%" role="img" aria-label="OEE trend">` +
    `<line x1="0" y1="${h}" x2="${w}" y2="${h}" stroke="#ccc"/><text x="-28" y="${h}">0%</text><text x="-28" y="8">100%</text>` +
    `<polyline fill="none" stroke="#3b82f6" stroke-width="2" points="${pts.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' ')}"/>` +
    rows.map((r, i) => `<text x="${pts[i][0]}" y="${h + 14}" text-anchor="middle">${esc(r.from.slice(11, 13))}</text>`).join('') + '</svg>';
}

function paretoSvg(bars) {
  const w = 500, rowH = 22, max = Math.max(1, ...bars.map((b) => b.seconds));
  return `<svg viewBox="0 0 ${w} ${Math.max(1, bars.length) * rowH}" width="100%" role="img" aria-label="loss Pareto" id="pareto-svg">` +
    bars.map((b, i) => `<rect x="150" y="${i * rowH + 3}" width="${((w - 220) * b.seconds) / max}" height="${rowH - 6}" fill="#d64545"/>` +
      `<text x="145" y="${i * rowH + 15}" text-anchor="end" data-bar="${esc(b.name)}">${esc(b.name)}</text>` +
      `<text x="${155 + ((w - 220) * b.seconds) / max}" y="${i * rowH + 15}">${(b.seconds / 60).toFixed(1)} min</text>`).join('') + '</svg>';
}

async function renderMachine(path) {
  const m = machineSpec(path);
  if (!m) { main.innerHTML = '<p>No such machine.</p>'; return; }
  const s = states.get(path) || m;
  main.innerHTML = `
    <h1>${esc(m.name)} <small>${esc(path)}</small></h1>
    <div class="card"><b>Now:</b> <span id="machine-state" data-machine="${esc(path)}">${esc(s.state)}${s.reason ? ' · ' + esc(s.reason) : ''}</span>
      <label class="no-print">Window <select id="window"><option value="shift">current shift</option><option value="day">last 24 h</option></select></label></div>
    <div class="card"><h2>State timeline</h2><div id="timeline">…</div></div>
    <div class="grid2"><div class="card"><h2>OEE by hour</h2><div id="trend">…</div></div>
    <div class="card"><h2>Loss Pareto (by reason)</h2><div id="pareto">…</div></div></div>
    <div class="card"><h2>Stops</h2><p class="error" id="stop-error"></p><div id="stops">…</div></div>`;
  $('#window').addEventListener('change', () => loadMachine(path));
  await loadMachine(path);
}

function windowQuery() {
  const sel = $('#window');
  if (sel && sel.value === 'day') {
    const to = new Date(), from = new Date(to - 24 * 3600 * 1000);
    return `&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  }
  return '';  // the server's default: the current shift so far
}

async function loadMachine(path) {
  const q = 'node=' + encodeURIComponent(path) + windowQuery();
  const [timeline, trend, pareto, stops] = await Promise.all([
    api('/api/v1/timeline?machine=' + encodeURIComponent(path) + windowQuery()),
    api('/api/v1/kpis?by=hour&' + q), api('/api/v1/pareto?' + q), api('/api/v1/stops?limit=50&' + q)]);
  $('#timeline').innerHTML = timelineSvg(timeline.intervals, timeline.from, timeline.to);
  $('#trend').innerHTML = trendSvg(trend);
  $('#pareto').innerHTML = paretoSvg(pareto.bars);
  const canWrite = me.role !== 'viewer';
  $('#stops').innerHTML = `<table><thead><tr><th>From</th><th>Duration</th><th>Kind</th><th>Reason</th><th class="no-print"></th></tr></thead><tbody>` +
    stops.items.map((s, i) => `<tr data-stop="${i}" data-planned-s="${s.planned_s}"><td>${esc(s.from.slice(11, 19))}</td><td>${(s.duration_s / 60).toFixed(1)} min</td>` +
      `<td>${esc(s.kind)}</td><td>${esc(s.reason || '—')}</td>` +
      `<td class="no-print"><input class="reason" placeholder="reason" value="" ${canWrite ? '' : 'title="operators assign reasons"'}>` +
      `<button class="assign" data-machine="${esc(s.machine)}" data-at="${esc(s.from)}">Assign</button></td></tr>`).join('') + '</tbody></table>';
  $('#stops').dataset.window = $('#window') ? $('#window').value : 'shift';  // what the table shows (tests wait on it)
  for (const b of document.querySelectorAll('button.assign')) {
    b.addEventListener('click', async () => {
      const reason = b.previousElementSibling.value.trim();
      try {
        await api('/api/v1/stops/reason', { method: 'POST', body: JSON.stringify({ machine: b.dataset.machine, at: b.dataset.at, reason }) });
        $('#stop-error').textContent = '';
        await loadMachine(path);
      } catch (e) {
        $('#stop-error').textContent = e.message;
      }
    });
  }
}

async function renderReport() {
  const [kpiPlant, paretoPlant] = await Promise.all([api('/api/v1/kpis'), api('/api/v1/pareto')]);
  const rows = await Promise.all(lines().map(async (l) => [l, await api('/api/v1/kpis?node=' + encodeURIComponent(l.path))]));
  const shift = plant.current_shift;
  main.innerHTML = `<div class="card"><h1>Shift report ${shift ? esc(shift.name) : ''}</h1>
    <p>${esc(kpiPlant.from)} – ${esc(kpiPlant.to)} · ${esc(plant.timezone)}</p>
    <button onclick="window.print()">Print</button>
    <table><thead><tr><th>Node</th><th>OEE</th><th>A</th><th>P</th><th>Q</th><th>Good</th><th>Reject</th><th>Downtime</th></tr></thead><tbody>
    ${[['Plant', kpiPlant], ...rows.map(([l, k]) => [l.name, k])].map(([n, k]) => `<tr><td>${esc(n)}</td><td>${pct(k.oee)}</td><td>${pct(k.availability)}</td>` +
      `<td>${pct(k.performance)}</td><td>${pct(k.quality)}</td><td>${k.good_count}</td><td>${k.reject_count}</td><td>${(k.downtime_s / 60).toFixed(0)} min</td></tr>`).join('')}
    </tbody></table></div><div class="card"><h2>Top losses</h2>${paretoSvg(paretoPlant.bars.slice(0, 10))}</div>`;
}

async function route() {
  if (!token || !plant) return;
  const hash = decodeURIComponent(location.hash.slice(1));
  try {
    if (hash.startsWith('machine=')) await renderMachine(hash.slice(8));
    else if (hash === 'report') await renderReport();
    else renderOverview();
  } catch (e) {
    main.innerHTML = `<p class="error">${esc(e.message)}</p>`;
  }
}

async function start() {
  try {
    me = await api('/api/v1/me');
    plant = await api('/api/v1/plant');
  } catch (e) {
    return;
  }
  $('#who').textContent = me.user + ' (' + me.role + ')';
  $('#logout').hidden = false;
  connectLive();
  await route();
}

window.addEventListener('hashchange', route);
$('#logout').addEventListener('click', logout);
if (token) start(); else showLogin();
