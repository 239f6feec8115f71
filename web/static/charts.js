// The dashboard's charts on uPlot (npm `uplot`, compiled into oee): the state timeline, the OEE trend,
// the loss Pareto and the six-big-losses waterfall. Every chart keeps its uPlot in `charts` so a live
// refresh updates its data (and keeps the zoom) instead of building it again; each has an aria label
// and its data as a table beside it; a PNG is drawn from its canvas (chartPng).
'use strict';

const charts = new WeakMap();  // container element -> { kind, u, state, table?, legend? }
const chartOf = (el) => charts.get(typeof el === 'string' ? document.querySelector(el) : el)?.u;
const CHART_HEIGHT = { timeline: 110, trend: 220, pareto: 240, waterfall: 260 };
const chartWidth = (el) => Math.max(280, Math.floor(el.clientWidth || 600));
// x in seconds (uPlot's default), shown in the plant's time zone.
const plantDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), plant.timezone);
const whenText = (s) => new Intl.DateTimeFormat('en-GB', { timeZone: plant.timezone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(s * 1e3);
const pctText = (u, v) => (v === null || v === undefined ? '–' : v.toFixed(1) + '%');
// Time axis labels as the rest of the page writes times: 24 h in the plant's zone; days over longer spans.
const dayText = (s) => new Intl.DateTimeFormat('en-GB', { timeZone: plant.timezone, day: '2-digit', month: '2-digit' }).format(s * 1e3);
const timeAxis = (extra = {}) => Object.assign({ space: 70, values: (u, splits) => {
  const days = u.scales.x.max - u.scales.x.min > 2 * 86400;
  return splits.map((s) => (days ? dayText(s) : hhmm(s * 1e3)));
} }, extra);

// The charts follow their container's width (the page's, a TV's); the height stays.
const chartResizer = new ResizeObserver((entries) => {
  for (const e of entries) {
    const c = charts.get(e.target);
    if (c && !e.target.isConnected) { chartResizer.unobserve(e.target); c.u.destroy(); charts.delete(e.target); continue; }  // a page left
    if (c && Math.abs(c.u.width - chartWidth(e.target)) > 2) c.u.setSize({ width: chartWidth(e.target), height: c.u.height });
  }
});

// A diagonal hatch (time without data), as a canvas pattern.
function hatch(ctx, background, line) {
  const tile = document.createElement('canvas');
  tile.width = tile.height = 8;
  const g = tile.getContext('2d');
  g.fillStyle = background; g.fillRect(0, 0, 8, 8);
  g.strokeStyle = line; g.lineWidth = 2;
  g.beginPath(); g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
  return ctx.createPattern(tile, 'repeat');
}

// Builds the chart in `el`, or, when `el` already holds one of this kind, gives it the new state and
// data: the canvas stays and a zoomed x scale is kept (keepZoom) while the rest follows the data.
function plot(el, kind, label, state, options, data, keepZoom = true) {
  const c = charts.get(el);
  if (c && c.kind === kind && c.u.root.isConnected) {
    const xs = c.u.data[0], x = c.u.scales.x;
    const zoomed = keepZoom && xs.length > 0 && (x.min > xs[0] + 1e-6 || x.max < xs[xs.length - 1] - 1e-6);
    Object.assign(c.state, state);
    c.u.setData(data, !zoomed);
    if (c.state.xRange) c.u.setScale('x', c.state.xRange());
    return c.u;
  }
  if (c) { c.u.destroy(); c.table?.remove(); c.legend?.remove(); chartResizer.unobserve(el); }
  el.replaceChildren();
  el.dataset.chart = kind;
  const u = new uPlot(Object.assign({ width: chartWidth(el), height: CHART_HEIGHT[kind] }, options(state)), data, el);
  nameChart(u, label);
  charts.set(el, { kind, u, state });
  if (state.xRange) u.setScale('x', state.xRange());
  chartResizer.observe(el);
  return u;
}

// The chart's data as a table (for screen readers and to read exact values), below the chart.
function chartTable(el, head, rows) {
  const c = charts.get(el);
  if (!c.table) {
    c.table = document.createElement('details');
    c.table.className = 'chart-data';
    el.after(c.table);
  }
  c.table.innerHTML = `<summary>${S.dataTable}</summary><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr${r.attrs || ''}>${r.cells.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('') + '</tbody></table>';
}

// --- the state timeline: a bar per interval, drawn by a draw hook over a uPlot time axis -----------
const TIMELINE_STATES = ['running', 'stopped', 'setup', 'starved', 'blocked', 'planned_stop'];

// Draws the intervals of `state` (ms) inside the plot; 'unknown' and time no interval covers up to
// now are no data (hatched); a state hidden in the legend is not drawn.
function drawIntervals(u, state) {
  const { ctx } = u, { left, top, width, height } = u.bbox;
  const px = (ms) => u.valToPos(ms / 1000, 'x', true);
  state.nodata ||= hatch(ctx, '#e5e7eb', '#6b7280');
  const bar = (a, b, fill) => {
    const x0 = Math.max(left, px(a)), x1 = Math.min(left + width, px(b));
    if (x1 > x0 - 1) { ctx.fillStyle = fill; ctx.fillRect(x0, top, Math.max(1, x1 - x0), height); }
  };
  ctx.save();
  const noDataShown = u.series[TIMELINE_STATES.length + 1].show;
  if (noDataShown) bar(state.from, Math.min(serverNow(), state.to), state.nodata);
  for (const iv of state.intervals) {
    const i = iv.state === 'unknown' ? TIMELINE_STATES.length : TIMELINE_STATES.indexOf(iv.state);
    if (i < 0 || !u.series[i + 1].show) continue;
    bar(Date.parse(iv.from), Date.parse(iv.to), iv.state === 'unknown' ? state.nodata : STATE_COLOURS[iv.state]);
  }
  ctx.restore();
}

// The interval under the cursor, told below the chart (the bars are no DOM elements).
function timelineReadout(u, state, out) {
  if (u.cursor.left === null || u.cursor.left < 0) { out.textContent = ''; return; }
  const t = u.posToVal(u.cursor.left, 'x') * 1000;
  const iv = state.intervals.find((x) => Date.parse(x.from) <= t && t < Date.parse(x.to));
  const what = !iv || iv.state === 'unknown' ? S.noData : iv.state + (iv.reason ? ' · ' + iv.reason : '');
  out.textContent = `${hhmm(t)} ${what}` + (iv ? ` (${hhmm(Date.parse(iv.from))}–${hhmm(Date.parse(iv.to))})` : '');
}

// Timeline of [from, to] (ms). Zoom: drag across it, double-click to see it all again; zoom(factor)
// below narrows or widens around the middle. el.dataset.span: the seconds shown (tests read it).
function timelineChart(el, intervals, from, to, keepZoom = true) {
  const xs = [...new Set([from, to, ...intervals.flatMap((iv) => [Date.parse(iv.from), Date.parse(iv.to)])])]
    .filter((t) => t >= from && t <= to).sort((a, b) => a - b).map((t) => t / 1000);
  const series = [...TIMELINE_STATES, 'unknown'];
  const data = [xs, ...series.map(() => xs.map(() => null))];
  const readout = el.parentElement.querySelector(':scope > .readout');
  const options = (state) => ({
    tzDate: plantDate,
    legend: { live: false },
    cursor: { y: false, points: { show: false }, drag: { x: true, y: false } },
    scales: { x: { time: true }, y: { range: [0, 1] } },
    axes: [timeAxis({ grid: { show: false } }), { show: false }],
    series: [{}, ...series.map((s) => ({ label: s === 'unknown' ? S.noData : s, stroke: STATE_COLOURS[s], fill: STATE_COLOURS[s], width: 0, points: { show: false } }))],
    hooks: {
      draw: [(u) => drawIntervals(u, state)],
      setScale: [(u, key) => { if (key === 'x') el.dataset.span = String(Math.round(u.scales.x.max - u.scales.x.min)); }],
      setCursor: [(u) => { if (readout) timelineReadout(u, state, readout); }],
      setSeries: [(u) => u.redraw(false)],
    },
  });
  const u = plot(el, 'timeline', S.chartLabel.timeline, { intervals, from, to }, options, data, keepZoom);
  for (const row of u.root.querySelectorAll('.u-legend .u-series')) row.classList.toggle('legend-nodata', row.textContent.trim() === S.noData);
  chartTable(el, [S.from, S.to, S.state, S.reason], intervals.map((iv) => ({ cells: [iv.from, iv.to, iv.state === 'unknown' ? S.noData : iv.state, iv.reason || ''] })));
  return u;
}

// factor < 1 narrows the timeline around its middle, > 1 widens it (within the window), 0 shows it all.
function zoomChart(u, factor) {
  const xs = u.data[0], lo = xs[0], hi = xs[xs.length - 1];
  const mid = (u.scales.x.min + u.scales.x.max) / 2, half = ((u.scales.x.max - u.scales.x.min) * factor) / 2;
  u.setScale('x', factor ? { min: Math.max(lo, mid - half), max: Math.min(hi, mid + half) } : { min: lo, max: hi });
}

// --- the OEE trend: a line per bucket, the target dashed; no planned time is a gap (null), not 0 % --
// A bucket's kind: no planned time, or some no-data time (both banded behind the line).
const bucketKind = (r) => (r.no_data_s > 0 || r.unknown_time_s > 0 ? 'nodata' : !(r.planned_production_time_s > 0) ? 'noplan' : null);
const bucketEnd = (rows, i) => Date.parse(rows[i].to || rows[i + 1]?.from || '') || Date.parse(rows[i].from) + 3600e3;

function drawBands(u, state) {
  const { ctx } = u, { top, height, left, width } = u.bbox;
  state.hatch ||= hatch(ctx, '#f3f4f6', '#9ca3af');
  ctx.save();
  ctx.beginPath(); ctx.rect(left, top, width, height); ctx.clip();
  for (const b of state.bands) {
    const x0 = u.valToPos(b.from / 1000, 'x', true), x1 = u.valToPos(b.to / 1000, 'x', true);
    ctx.fillStyle = b.kind === 'noplan' ? '#e5e7eb' : state.hatch;
    ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
  }
  ctx.restore();
}

function trendChart(el, rows, target, keepZoom = true, label = S.chartLabel.trend) {
  // A point per bucket at its start, and the last bucket's end, so the axis spans the whole window.
  const xs = rows.map((r) => Date.parse(r.from) / 1000);
  if (rows.length) xs.push(bucketEnd(rows, rows.length - 1) / 1000);
  const oee = rows.map((r) => (r.oee === null || r.oee === undefined || !(r.planned_production_time_s > 0) ? null : 100 * r.oee));
  const bands = rows.map((r, i) => ({ kind: bucketKind(r), from: Date.parse(r.from), to: bucketEnd(rows, i) })).filter((b) => b.kind);
  const data = [xs, [...oee, ...(rows.length ? [null] : [])], xs.map(() => (target ? 100 * target : null))];
  const options = (state) => ({
    tzDate: plantDate,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true }, y: { range: [0, 100] } },
    axes: [timeAxis(), { values: (u, splits) => splits.map((v) => v + '%'), size: 50 }],
    series: [{ value: (u, v) => (v === null ? '–' : whenText(v)) },
      { label: 'OEE', stroke: '#3b82f6', width: 2, points: { show: true, size: 6, fill: '#3b82f6' }, value: pctText },
      { label: S.target, stroke: '#111827', width: 2, dash: [6, 4], points: { show: false }, value: pctText }],
    hooks: { drawClear: [(u) => drawBands(u, state)] },
  });
  const u = plot(el, 'trend', label, { bands }, options, data, keepZoom);
  const c = charts.get(el);
  if (!c.legend) {  // the bands' legend, beside uPlot's of the lines
    el.insertAdjacentHTML('afterend', legendHtml([['band-noplan', S.noPlan], ['band-nodata', S.noData]]));
    c.legend = el.nextElementSibling;
  }
  chartTable(el, [S.from, 'OEE', S.plannedTime, S.noData], rows.map((r, i) => ({
    attrs: bucketKind(r) ? ` data-band="${bucketKind(r)}"` : '',
    cells: [r.from, oee[i] === null ? '–' : oee[i].toFixed(1) + '%', Math.round(r.planned_production_time_s / 60) + ' min', Math.round(((r.no_data_s || 0) + (r.unknown_time_s || 0)) / 60) + ' min'] })));
  return u;
}

// --- bars with a categorical x axis (the Pareto, the waterfall): one slot per item ----------------
// uPlot sets x to the data's span ([0, n-1], half bars at the ends) and applies no x range
// function when data exist, so plot() sets the slots' range itself (state.xRange); no zoom here.
const categoryPadding = [12, 48, 0, 8];  // room on the right for the last slanted label
const categoryCursor = () => ({ drag: { x: false, y: false }, points: { show: false }, bind: { dblclick: () => null } });
const categoryAxis = (state, names) => ({
  splits: () => state.names.map((_, i) => i),
  values: (u, splits) => splits.map((i) => (state.names[i] ?? '').slice(0, 22)),
  rotate: names.length > 5 ? -30 : 0, size: names.length > 5 ? 90 : 40, grid: { show: false },
});

// The loss Pareto: minutes per reason, longest first, and the cumulative share (right axis). Tapping a
// bar calls onPick(reason) (the analysis page drills down the reason tree).
function paretoChart(el, bars, onPick = null) {
  const xs = bars.map((_, i) => i);
  const total = bars.reduce((a, b) => a + b.seconds, 0);
  let sum = 0;
  const cumulative = bars.map((b) => { sum += b.seconds; return total > 0 ? (100 * sum) / total : null; });
  const data = [xs, bars.map((b) => b.seconds / 60), cumulative];
  const state = { names: bars.map((b) => b.name), onPick, xRange: () => ({ min: -0.5, max: Math.max(1, state.names.length) - 0.5 }) };
  const options = (st) => ({
    cursor: categoryCursor(), padding: categoryPadding,
    scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, Math.max(1, hi) * 1.1] }, pct: { range: [0, 100] } },
    axes: [categoryAxis(st, bars.map((b) => b.name)), { values: (u, splits) => splits.map((v) => v + ' min'), size: 60 },
      { scale: 'pct', side: 1, grid: { show: false }, values: (u, splits) => splits.map((v) => v + '%') }],
    series: [{ label: S.reason, value: (u, i) => st.names[i] ?? '' },
      { label: S.lossMinutes, stroke: '#b91c1c', fill: '#d64545', paths: uPlot.paths.bars({ size: [0.7, 80] }), points: { show: false }, value: (u, v) => (v === null ? '–' : v.toFixed(1) + ' min') },
      { label: S.cumulative, scale: 'pct', stroke: '#111827', width: 2, points: { show: true, size: 5 }, value: pctText }],
    hooks: { ready: [(u) => u.over.addEventListener('click', () => { if (st.onPick && u.cursor.idx !== null && st.names[u.cursor.idx] !== undefined) st.onPick(st.names[u.cursor.idx]); })] },
  });
  const u = plot(el, 'pareto', S.chartLabel.pareto, state, options, data, false);
  el.classList.toggle('pickable', !!onPick);
  chartTable(el, [S.reason, S.lossMinutes, S.stops, S.cumulative], bars.map((b, i) => ({ attrs: ` data-bar="${esc(b.name)}"`,
    cells: [b.name, (b.seconds / 60).toFixed(1), b.stops ?? '', cumulative[i] === null ? '' : cumulative[i].toFixed(1) + '%'] })));
  return u;
}

// The waterfall: planned time down to fully productive time (hours); totals stand on zero (green),
// each loss floats from the level before it down (red). steps: waterfallSteps() of analysis.js.
function waterfallChart(el, steps) {
  let level = 0;
  const top = [], bottom = [];
  for (const s of steps) {
    top.push((s.total ? s.seconds : level) / 3600);
    bottom.push(s.total ? 0 : (level - s.seconds) / 3600);
    level = s.total ? s.seconds : level - s.seconds;
  }
  const only = (total) => steps.map((s, i) => (!!s.total === total ? top[i] : null));
  const data = [steps.map((_, i) => i), only(true), only(false)];
  const state = { names: steps.map((s) => s.name), bottom, xRange: () => ({ min: -0.5, max: state.names.length - 0.5 }) };
  const floating = (st) => uPlot.paths.bars({ size: [0.7, 90], disp: {
    y0: { unit: 1, values: (u, si) => st.bottom.map((b, i) => (u.data[si][i] === null ? null : b)) },
    y1: { unit: 1, values: (u, si) => u.data[si] } } });
  const hours = (u, v) => (v === null ? '–' : v.toFixed(2) + ' h');
  const options = (st) => ({
    cursor: categoryCursor(), padding: categoryPadding,
    scales: { x: { time: false }, y: { range: (u, lo, hi) => [0, Math.max(0.1, hi) * 1.1] } },
    axes: [categoryAxis(st, steps.map((s) => s.name)), { values: (u, splits) => splits.map((v) => v + ' h'), size: 55 }],
    series: [{ label: S.step, value: (u, i) => st.names[i] ?? '' },
      { label: S.timeLeft, stroke: '#15803d', fill: '#1f9d55', paths: floating(st), points: { show: false }, value: hours },
      { label: S.lost, stroke: '#b91c1c', fill: '#d64545', paths: floating(st), points: { show: false }, value: hours }],
  });
  const u = plot(el, 'waterfall', S.chartLabel.waterfall, state, options, data, false);
  chartTable(el, [S.step, S.hours, S.fromTo], steps.map((s, i) => ({ attrs: ` data-step="${esc(s.name)}" data-seconds="${s.seconds}"`,
    cells: [s.name, (s.seconds / 3600).toFixed(2), `${top[i].toFixed(2)} → ${bottom[i].toFixed(2)} h`] })));
  return u;
}

// --- PNG: the title, the chart's canvas and its legend on white ------------------------------------
function chartPng(u, title, done) {
  const src = u.ctx.canvas, r = src.width / u.width, pad = 8 * r, head = 26 * r, foot = 24 * r;
  const shown = u.series.map((s, i) => [s, i]).filter(([s, i]) => i > 0 && s.show && s.label);
  const c = document.createElement('canvas');
  c.width = src.width; c.height = src.height + head + foot;
  const g = c.getContext('2d');
  g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = '#111827'; g.font = `bold ${14 * r}px sans-serif`; g.fillText(title, pad, 18 * r);
  g.drawImage(src, 0, head);
  g.font = `${12 * r}px sans-serif`;
  let x = pad;
  for (const [s, i] of shown) {
    const colour = s.width > 0 ? s.stroke(u, i) : s.fill(u, i);  // uPlot keeps both as functions
    g.fillStyle = typeof colour === 'string' ? colour : '#6b7280';  // a pattern: grey
    g.fillRect(x, head + src.height + 8 * r, 10 * r, 10 * r);
    g.fillStyle = '#111827'; g.fillText(s.label, x + 14 * r, head + src.height + 17 * r);
    x += 24 * r + g.measureText(s.label).width;
  }
  c.toBlob(done, 'image/png');
}

// A chart's canvas as an image a screen reader names (compare.js's chart too).
function nameChart(u, label) {
  u.ctx.canvas.setAttribute('role', 'img');
  u.ctx.canvas.setAttribute('aria-label', label);
}
