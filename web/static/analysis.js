// The analysis page (#analysis?from&to&nodes&by): any window with presets, nodes side by side, the
// six-big-losses waterfall, trends with the target line, a Pareto drilling through the reason tree
// to the stops; CSV and PNG export of every chart. The URL holds the view, so it can be shared.
'use strict';

const PRESETS = { shift: null, day: 24, week: 24 * 7, month: 24 * 30 };  // hours back from now; shift: the current one

function analysisView() {
  const q = new URLSearchParams(location.hash.slice(location.hash.indexOf('?') + 1));
  // The server's clock, not the browser's: a demo's runs faster, and a tablet's may be off.
  const to = q.get('to') || new Date(serverNow()).toISOString();
  const from = q.get('from') || plant.current_shift?.from || new Date(serverNow() - 8 * 3600e3).toISOString();
  const nodes = (q.get('nodes') || lines()[0]?.path || '').split(',').filter(Boolean);
  return { from, to, nodes, by: q.get('by') || 'hour', drill: q.get('drill') || '', cmp: q.get('cmp') || '' };
}

function setAnalysisView(v) {
  const q = new URLSearchParams({ from: v.from, to: v.to, nodes: v.nodes.join(','), by: v.by });
  if (v.drill) q.set('drill', v.drill);
  if (v.cmp) q.set('cmp', v.cmp);
  location.hash = '#analysis?' + q.toString();
}

function presetView(v, preset) {
  const now = new Date(serverNow());
  const from = PRESETS[preset] ? new Date(now - PRESETS[preset] * 3600e3) : new Date(plant.current_shift?.from || now - 8 * 3600e3);
  return Object.assign({}, v, { from: from.toISOString(), to: now.toISOString(), by: preset === 'month' ? 'day' : preset === 'week' ? 'day' : 'hour', drill: '' });
}

const allNodes = () => lines().flatMap((l) => [{ path: l.path, name: l.name }, ...l.machines.map((m) => ({ path: m.path, name: '· ' + m.name }))]);
const nodeName = (p) => allNodes().find((n) => n.path === p)?.name.replace(/^· /, '') || p;
const toLocalInput = (iso) => new Date(Date.parse(iso) - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);

async function renderAnalysis() {
  // A newer view (a preset, a drill) may start before this one's answers arrive: the older one stops.
  const gen = renderAnalysis.gen = (renderAnalysis.gen || 0) + 1;
  const current = () => gen === renderAnalysis.gen && $('#analysis-body');
  const v = analysisView();
  const win = `&from=${encodeURIComponent(v.from)}&to=${encodeURIComponent(v.to)}`;
  main.innerHTML = `<h1>${S.analysis}</h1><form id="analysis-form" class="card controls">
    <div class="presets">${Object.keys(PRESETS).map((p) => `<button type="button" class="preset" data-preset="${p}">${S.presets[p]}</button>`).join(' ')}</div>
    <label>${S.from} <input type="datetime-local" name="from" value="${toLocalInput(v.from)}"></label>
    <label>${S.to} <input type="datetime-local" name="to" value="${toLocalInput(v.to)}"></label>
    <label>${S.bucket} <select name="by">${['hour', 'day', 'week'].map((b) => `<option${b === v.by ? ' selected' : ''}>${b}</option>`).join('')}</select></label>
    <label>${S.compare} <select name="nodes" multiple size="5">${allNodes().map((n) => `<option value="${esc(n.path)}"${v.nodes.includes(n.path) ? ' selected' : ''}>${esc(n.name)}</option>`).join('')}</select></label>
    ${compareBySelect(v.cmp)}
    <button type="submit">${S.apply}</button></form>
    <div id="analysis-body">…</div>`;
  for (const b of document.querySelectorAll('.preset')) b.addEventListener('click', () => setAnalysisView(presetView(v, b.dataset.preset)));
  $('#analysis-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const nodes = f.getAll('nodes');
    setAnalysisView({ from: new Date(f.get('from')).toISOString(), to: new Date(f.get('to')).toISOString(), by: f.get('by'), nodes: nodes.length ? nodes : v.nodes, cmp: f.get('cmp') });
  });
  const totals = await Promise.all(v.nodes.map((n) => api('/api/v1/kpis?node=' + encodeURIComponent(n) + win)));
  const trends = await Promise.all(v.nodes.map((n) => trendRows(n, v)));
  const body = current();
  if (!body) return;
  body.innerHTML = compareHtml(v.nodes, totals) + `<div class="card" id="chart-waterfall"><h2>${S.waterfall}: ${esc(nodeName(v.nodes[0]))}</h2><div class="chart"></div></div>` +
    v.nodes.map((n, i) => `<div class="card" id="chart-trend-${i}"><h2>${S.trend}: ${esc(nodeName(n))}</h2><div class="chart"></div></div>`).join('') +
    `<div class="card" id="chart-pareto"><h2>${S.paretoDrill}</h2><div id="pareto-drill">…</div></div>`;
  waterfallChart($('#chart-waterfall .chart'), waterfallSteps(totals[0]));
  v.nodes.forEach((n, i) => trendChart($(`#chart-trend-${i} .chart`), trends[i], targetOf(n), true, `${S.trend}: ${nodeName(n)}`));
  if (v.cmp) await renderComparison(v, win, current);
  exportButtons('chart-compare', () => compareCsv(v.nodes, totals));
  exportButtons('chart-waterfall', () => toCsv(['step', 'seconds'], waterfallSteps(totals[0]).map((s) => [s.name, s.seconds])));
  v.nodes.forEach((n, i) => exportButtons('chart-trend-' + i, () => toCsv(['from', 'oee', 'planned_production_time_s'], trends[i].map((r) => [r.from, r.oee, r.planned_production_time_s]))));
  await renderDrill(v, win, current);
}

const targetOf = (node) => machineSpec(node)?.targets?.oee || lines().find((l) => l.path === node)?.machines[0]?.targets?.oee;

// By week: one request per week (the API buckets by hour, day or shift).
async function trendRows(node, v) {
  const q = '/api/v1/kpis?node=' + encodeURIComponent(node);
  if (v.by !== 'week') return api(`${q}&by=${v.by}&from=${encodeURIComponent(v.from)}&to=${encodeURIComponent(v.to)}`);
  const weeks = [];
  for (let t = Date.parse(v.from); t < Date.parse(v.to); t += 7 * 86400e3) weeks.push([t, Math.min(Date.parse(v.to), t + 7 * 86400e3)]);
  return Promise.all(weeks.map(([a, b]) => api(`${q}&from=${new Date(a).toISOString()}&to=${new Date(b).toISOString()}`)));
}

function compareHtml(nodes, totals) {
  const cols = ['oee', 'availability', 'performance', 'quality'];
  return `<div class="card" id="chart-compare"><h2>${S.compare}</h2><table><thead><tr><th>${S.node}</th>${cols.map((c) => `<th>${S.kpi[c]}</th>`).join('')}` +
    `<th>${S.good}</th><th>${S.reject}</th><th>${S.downtime}</th></tr></thead><tbody>` +
    nodes.map((n, i) => `<tr data-node="${esc(n)}"><td>${esc(nodeName(n))}</td>${cols.map((c) => `<td>${pct(totals[i][c])}</td>`).join('')}` +
      `<td>${totals[i].good_count}</td><td>${totals[i].reject_count}</td><td>${(totals[i].downtime_s / 60).toFixed(0)} min</td></tr>`).join('') + '</tbody></table></div>';
}

const compareCsv = (nodes, totals) => toCsv(['node', 'oee', 'availability', 'performance', 'quality', 'good_count', 'reject_count', 'downtime_s'],
  nodes.map((n, i) => [n, totals[i].oee, totals[i].availability, totals[i].performance, totals[i].quality, totals[i].good_count, totals[i].reject_count, totals[i].downtime_s]));

// Planned time down to fully productive time through the six big losses (seconds); starved and
// blocked, availability losses from outside the machine, get their own step.
function waterfallSteps(k) {
  const l = k.losses;
  const steps = [{ name: S.planned, seconds: k.planned_production_time_s, total: true }];
  for (const [name, s] of [['breakdowns', l.breakdowns], ['setup', l.setup], ['starved_blocked', l.starved + l.blocked], ['small_stops', l.small_stops],
    ['speed_loss', l.speed_loss], ['production_rejects', l.production_rejects], ['startup_rejects', l.startup_rejects]]) steps.push({ name: S.losses[name], seconds: s });
  steps.push({ name: S.fullyProductive, seconds: Math.max(0, steps.reduce((a, s) => a + (s.total ? s.seconds : -s.seconds), 0)), total: true });
  return steps;
}

// Level 1 of the reason tree, then the children of the bar picked, then the stops of a leaf.
async function renderDrill(v, win, current) {
  const node = encodeURIComponent(v.nodes[0]);
  const path = v.drill ? v.drill.split('>') : [];
  const el = $('#pareto-drill');
  const crumbs = `<nav class="crumbs">${[S.all, ...path].map((c, i) => `<button class="crumb" data-depth="${i}">${esc(c)}</button>`).join(' › ')}</nav>`;
  const leaf = path.length > 0 && (!reasonTree.tree || !reasonTree.reasons.some((r) => r.parent === path[path.length - 1]));
  if (leaf) {
    const reason = path[path.length - 1];
    const stops = (await api(`/api/v1/stops?limit=10000&node=${node}${win}`)).items.filter((s) => (s.reason || '(unassigned)') === reason);
    if (!current()) return;
    el.innerHTML = crumbs + `<table id="drill-stops"><thead><tr><th>${S.machine}</th><th>${S.from}</th><th>${S.duration}</th><th>${S.reason}</th></tr></thead><tbody>` +
      stops.map((s) => `<tr><td>${esc(nodeName(s.machine))}</td><td>${whenHtml(s.from)}</td><td>${(s.duration_s / 60).toFixed(1)} min</td><td>${esc(s.reason)}</td></tr>`).join('') + '</tbody></table>';
    exportButtons('chart-pareto', () => toCsv(['machine', 'from', 'duration_s', 'reason'], stops.map((s) => [s.machine, s.from, s.duration_s, s.reason])));
  } else if (!reasonTree.tree) {
    const bars = (await api(`/api/v1/pareto?node=${node}${win}`)).bars;
    if (!current()) return;
    drillBars(el, crumbs, bars, v);
  } else {
    const p = await api(`/api/v1/pareto?node=${node}${win}&level=${path.length + 1}`);
    if (!current()) return;
    const parent = path[path.length - 1] || null;
    // Below level 1 only the children of the bar picked (reasons outside the tree stay at level 1).
    const inBranch = (name) => (parent ? reasonTree.reasons.find((r) => r.code === name)?.parent === parent : true);
    drillBars(el, crumbs, p.bars.filter((b) => inBranch(b.name)), v);
  }
  for (const b of el.querySelectorAll('.crumb')) b.addEventListener('click', () => setAnalysisView(Object.assign({}, v, { drill: path.slice(0, Number(b.dataset.depth)).join('>') })));
}

// The bars of one level: tap a bar (or its button, for the keyboard) to go a level down.
function drillBars(el, crumbs, bars, v) {
  el.innerHTML = crumbs + '<div class="chart"></div><div class="drill-buttons">' +
    bars.map((b) => `<button class="drill" data-reason="${esc(b.name)}">${esc(b.name)} ›</button>`).join(' ') + '</div>';
  const drill = (reason) => setAnalysisView(Object.assign({}, v, { drill: (v.drill ? v.drill + '>' : '') + reason }));
  paretoChart($('.chart', el), bars, drill);
  for (const b of el.querySelectorAll('.drill')) b.addEventListener('click', () => drill(b.dataset.reason));
  exportButtons('chart-pareto', () => toCsv(['reason', 'seconds', 'stops'], bars.map((b) => [b.name, b.seconds, b.stops ?? ''])));
}

// CSV and PNG buttons for the chart card `id`; csv() gives the rows shown.
function exportButtons(id, csv) {
  const card = document.getElementById(id);
  card.querySelector('.export')?.remove();
  const bar = document.createElement('div');
  bar.className = 'export no-print';
  bar.innerHTML = `<button class="export-csv">${S.exportCsv}</button> <button class="export-png">${S.exportPng}</button>`;
  card.querySelector('h2').after(bar);
  bar.querySelector('.export-csv').addEventListener('click', () => download(new Blob([csv()], { type: 'text/csv' }), id + '.csv'));
  bar.querySelector('.export-png').addEventListener('click', () => cardPng(card, id));
}

const csvCell = (v) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? '"' + String(v).replace(/"/g, '""') + '"' : String(v));
const toCsv = (head, rows) => [head, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';

function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// The card's chart (its uPlot canvas with title and legend, or its table drawn as text), as PNG.
function cardPng(card, id) {
  const chart = [...card.querySelectorAll('[data-chart]')].map(chartOf).find(Boolean);
  if (chart) { chartPng(chart, card.querySelector('h2').textContent, (b) => download(b, id + '.png')); return; }
  const plotted = card.querySelector('.uplot canvas');  // the comparison's chart (compare.js)
  if (plotted) { plotted.toBlob((b) => download(b, id + '.png')); return; }
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  const rows = [...card.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent).join('   '));
  canvas.width = 900; canvas.height = 24 * rows.length + 16;
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#111'; ctx.font = '14px sans-serif';
  rows.forEach((r, i) => ctx.fillText(r, 8, 24 * (i + 1)));
  canvas.toBlob((b) => download(b, id + '.png'));
}
