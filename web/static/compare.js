// Side-by-side comparisons in #analysis beyond lines and machines (the view's `cmp`): the shifts,
// crews, products or production runs of the nodes compared, in one table and one uPlot chart (OEE
// bars, A, P and Q points, the target line), with CSV and PNG export like every chart.
'use strict';

const COMPARE_BY = ['shift', 'crew', 'product', 'run'];

function compareBySelect(cmp) {
  return `<label>${S.compareBy.label} <select name="cmp"><option value="">${S.compareBy.nodes}</option>` +
    COMPARE_BY.map((c) => `<option value="${c}"${c === cmp ? ' selected' : ''}>${S.compareBy[c]}</option>`).join('') + '</select></label>';
}

// The KPIs of summed figures (docs/oee-model.md): A = run / planned time, P = ideal / run time,
// Q = good / total count; a product's runs are summed this way, not averaged.
function kpiOfSum(rows) {
  const sum = (f) => rows.reduce((a, r) => a + (r[f] || 0), 0);
  const t = Object.fromEntries(['planned_production_time_s', 'run_time_s', 'ideal_time_s', 'good_count', 'total_count', 'reject_count', 'downtime_s'].map((f) => [f, sum(f)]));
  const ratio = (a, b) => (b > 0 ? a / b : null);
  t.availability = ratio(t.run_time_s, t.planned_production_time_s);
  t.performance = ratio(t.ideal_time_s, t.run_time_s);
  t.quality = ratio(t.good_count, t.total_count);
  t.oee = t.availability === null || t.performance === null || t.quality === null ? null : t.availability * t.performance * t.quality;
  return t;
}

const machinesOf = (node) => lines().flatMap((l) => l.machines).filter((m) => m.path === node || m.path.startsWith(node + '/'));

// [{ label, kpi }] for the view: one per shift occurrence or crew of each node (the API's buckets),
// one per run of each machine under the nodes, or one per product (its runs summed).
async function comparisonItems(v, win) {
  const q = (node, by) => api(`/api/v1/kpis?node=${encodeURIComponent(node)}&by=${by}${win}`);
  if (v.cmp === 'shift' || v.cmp === 'crew') {
    const per = await Promise.all(v.nodes.map((n) => q(n, v.cmp)));
    return v.nodes.flatMap((n, i) => per[i].map((r) => ({ label: `${nodeName(n)} · ${v.cmp === 'crew' ? r.crew : `${r.shift || ''} ${r.from.slice(5, 16).replace('T', ' ')}`}`, kpi: r })));
  }
  const machines = [...new Map(v.nodes.flatMap(machinesOf).map((m) => [m.path, m])).values()];
  const runs = (await Promise.all(machines.map((m) => q(m.path, 'run')))).flatMap((rows, i) => rows.map((r) => Object.assign({ machine: machines[i] }, r)));
  if (v.cmp === 'run') return runs.map((r) => ({ label: `${r.machine.name} · ${r.run} (${r.product || '–'})`, kpi: r }));
  const byProduct = new Map();
  for (const r of runs) byProduct.set(r.product || '–', [...(byProduct.get(r.product || '–') || []), r]);
  return [...byProduct].map(([product, rs]) => ({ label: product, kpi: kpiOfSum(rs) }));
}

async function renderComparison(v, win, current) {
  const card = document.createElement('div');
  card.className = 'card';
  card.id = 'chart-compare-by';
  card.innerHTML = `<h2>${S.compareBy.title(S.compareBy[v.cmp])}</h2><p class="error" data-error></p><div data-body>…</div>`;
  $('#chart-compare').after(card);
  let items;
  try {
    items = await comparisonItems(v, win);
  } catch (e) {  // e.g. by crew without a rotation in the plant file: the server says so
    card.querySelector('[data-error]').textContent = e.message;
    card.querySelector('[data-body]').textContent = '';
    return;
  }
  if (!current()) return;
  const cols = ['oee', 'availability', 'performance', 'quality'];
  card.querySelector('[data-body]').innerHTML = items.length ? `<table><thead><tr><th>${S.compareBy[v.cmp]}</th>${cols.map((c) => `<th>${S.kpi[c]}</th>`).join('')}` +
    `<th>${S.good}</th><th>${S.reject}</th><th>${S.downtime}</th></tr></thead><tbody>` +
    items.map((it) => `<tr data-item="${esc(it.label)}"><td>${esc(it.label)}</td>${cols.map((c) => `<td>${pct(it.kpi[c])}</td>`).join('')}` +
      `<td>${it.kpi.good_count}</td><td>${it.kpi.reject_count}</td><td>${(it.kpi.downtime_s / 60).toFixed(0)} min</td></tr>`).join('') + '</tbody></table>' +
    '<div class="compare-chart"></div>' : `<p>${S.compareBy.none}</p>`;
  if (items.length) comparisonChart(card.querySelector('.compare-chart'), items, targetOf(v.nodes[0]));
  exportButtons('chart-compare-by', () => toCsv(['item', ...cols, 'good_count', 'reject_count', 'downtime_s'],
    items.map((it) => [it.label, ...cols.map((c) => it.kpi[c]), it.kpi.good_count, it.kpi.reject_count, it.kpi.downtime_s])));
}

// uPlot: one slot per item on the x axis; OEE as bars, A, P and Q as points, the target dashed.
function comparisonChart(el, items, target) {
  const x = items.map((_, i) => i);
  const pctOf = (c) => items.map((it) => (it.kpi[c] === null ? null : 100 * it.kpi[c]));
  const point = (label, stroke) => ({ label, stroke, width: 0, points: { show: true, size: 9, fill: stroke }, value: (u, v) => (v === null ? '–' : v.toFixed(1) + '%') });
  const series = [{ label: S.compareBy.item, value: (u, i) => items[i]?.label ?? '' },
    { label: S.kpi.oee, stroke: '#1d4ed8', fill: '#3b82f6aa', paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false }, value: (u, v) => (v === null ? '–' : v.toFixed(1) + '%') },
    point(S.kpi.availability, '#15803d'), point(S.kpi.performance, '#b45309'), point(S.kpi.quality, '#7c3aed')];
  const data = [x, pctOf('oee'), pctOf('availability'), pctOf('performance'), pctOf('quality')];
  if (target) {
    series.push({ label: S.target, stroke: '#111827', dash: [6, 4], width: 2, points: { show: false } });
    data.push(x.map(() => 100 * target));
  }
  const width = Math.max(320, el.clientWidth || 600);
  const u = new uPlot({
    width, height: 260, series, legend: { live: false },
    scales: { x: { time: false, range: [-0.5, items.length - 0.5] }, y: { range: [0, 100] } },
    axes: [{ splits: () => x, values: (u, splits) => splits.map((i) => (items[i] ? items[i].label.split(' · ').pop().slice(0, 24) : '')), rotate: items.length > 6 ? -30 : 0, size: items.length > 6 ? 90 : 40 },
      { values: (u, splits) => splits.map((s) => s + '%') }],
  }, data, el);
  nameChart(u, S.compareBy.chart(items.length));
}
