// Browser tests of the dashboard in headless Chromium (Debian's), driven by playwright-core,
// against a running `oee serve --demo` (started by run_browser_tests.sh):
// log in, overview with numbers, counts, pace, stop timers and the time left in the shift, a live
// state change, the machine page (live refresh, zoomable timeline, gaps), an operator picks a reason
// from the tree and the Pareto shows it, a viewer is refused, the Print button, the scoreboard on a
// kiosk with a display token. Every page: no console error, no CSP violation, no failed request.
// Screenshots go to $OEE_SCREENSHOT_DIR (desktop, tablet and TV sizes).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminApi, base, shoot, shots, step, withBrowser } from './browser_harness.mjs';

await adminApi('/api/v1/users', { name: 'olga', password: 'operator-password', role: 'operator' });
await adminApi('/api/v1/users', { name: 'vik', password: 'viewer-password', role: 'viewer' });

// Console errors (a CSP violation is one), page errors and failed requests fail the run; `expected`
// lists the refusals a step provokes on purpose (a viewer's 403, a wrong password's 401).
const failed = await withBrowser(async (browser, watch, { expected }) => {
  const page = await browser.newPage();
  page.setDefaultTimeout(60000);  // a loaded CI machine under ASan: a wait that succeeds returns at once
  watch(page);

  const login = async (user, password) => {
    await page.goto(base + '/');
    await page.fill('input[name=user]', user);
    await page.fill('input[name=password]', password);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('.tile[data-machine]');
  };

  await step('/favicon.ico is an icon', async () => {
    const r = await fetch(base + '/favicon.ico');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^image\//);
  });

  await step('a wrong password is refused', async () => {
    expected.add('/api/v1/login').add('401');
    await page.goto(base + '/');
    await page.fill('input[name=user]', 'olga');
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('wrong user name or password'));
    expected.clear();
  });

  await step('log in and see the overview with numbers', async () => {
    await login('olga', 'operator-password');
    await page.waitForSelector('#live.on');
    // Every machine tile gets its OEE of the current shift over the WebSocket.
    await page.waitForFunction(() => [...document.querySelectorAll('.tile[data-machine] [data-oee]')].some((e) => /\d+\.\d%/.test(e.textContent)));
    const tiles = await page.$$eval('.tile[data-machine]', (els) => els.length);
    assert.equal(tiles, 12);
    // Counts and pace on every machine tile; the time left in the shift (or that there is none).
    await page.waitForFunction(() => [...document.querySelectorAll('.tile[data-machine] [data-counts]')].every((e) => /good \d+/.test(e.textContent)));
    assert.ok(await page.$$eval('[data-counts]', (els) => els.some((e) => /\d+\/h/.test(e.textContent))), 'no pace on any tile');
    await page.waitForFunction(() => /^(\S+: \d+:\d\d:\d\d left( · [^:]+: \d+:\d\d:\d\d left)?|no shift now)$/.test(document.querySelector('#shift-left').textContent));
    // The plant file's name in the header and the window's title.
    assert.equal(await page.textContent('header .brand'), 'Spree Beverages');
    assert.equal(await page.title(), 'Spree Beverages · OEE');
    await shoot(page, '1-overview');
  });

  await step("during a break the header names it and counts its time down", async () => {
    // A break of the current shift around now (the demo's own come every few minutes of wall time),
    // drawn by the page's once-a-second tick, then the shift as the server gave it again: in one
    // evaluation, so that no refresh of the plant at a shift's end can come in between.
    const [shift, during, after] = await page.evaluate(() => {
      const saved = plant.current_shift;
      plant.current_shift = Object.assign({}, saved, { breaks: [{ from: new Date(serverNow() - 60e3).toISOString(),
        to: new Date(serverNow() + 3600e3).toISOString(), name: 'Test break' }] });
      tick();
      const text = document.querySelector('#shift-left').textContent;
      plant.current_shift = saved;
      tick();
      return [saved, text, document.querySelector('#shift-left').textContent];
    });
    assert.ok(shift, 'the demo always has a current shift');
    assert.match(during, new RegExp('^' + shift.name + ': \\d+:\\d\\d:\\d\\d left · Test break: (0:59:5\\d|1:00:00) left$'));
    assert.ok(!after.includes('Test break'), after);
    // The demo's breaks as the plant file names them.
    assert.ok(shift.breaks.length >= 1 && shift.breaks.every((b) => b.name && Date.parse(b.from) < Date.parse(b.to)), JSON.stringify(shift));
  });

  await step('a stopped machine shows its stop timer, and it runs', async () => {
    // Any state but running has a timer since the state began (a demo break makes every machine planned_stop).
    const sel = '.tile[data-machine]:not(.st-running) [data-since]';
    await page.waitForSelector(sel, { timeout: 240000 });
    assert.match(await page.$eval(sel, (e) => e.textContent), /^\d+:\d\d:\d\d$/);
    // At --speed 10 a stop can end within seconds: any timer seen now that shows another value later.
    await page.evaluate(() => { window.seenTimers = new Map([...document.querySelectorAll('[data-since]')].map((e) => [e.dataset.since, e.textContent])); });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-since]')].some((e) => window.seenTimers.has(e.dataset.since) &&
      window.seenTimers.get(e.dataset.since) !== e.textContent), null, { timeout: 60000 });
    assert.equal(await page.$$eval('.tile.st-running [data-since]', (els) => els.length), 0);
  });

  await step("watch a machine's state change live", async () => {
    const before = await page.$$eval('.tile[data-machine]', (els) => els.map((e) => e.className + '|' + e.querySelector('[data-state] [data-label]').textContent));
    await page.waitForFunction((b) => {
      const now = [...document.querySelectorAll('.tile[data-machine]')].map((e) => e.className + '|' + e.querySelector('[data-state] [data-label]').textContent);
      return now.some((v, i) => v !== b[i]);
    }, before, { timeout: 240000 });  // a break of the demo's (30 min, all machines planned_stop) lasts 180 s at --speed 10
    await page.screenshot({ path: join(shots, '2-state-changed.png'), fullPage: true });
  });

  // Taps through the reason tree of the test plant (Mechanical › Jam) for the stop `at` of
  // `machine`. By selector, not by element: a live refresh redraws the table at any moment.
  const pickReason = async ({ machine, at }, leaf) => {
    await page.click(`#stops button.pick[data-machine="${machine}"][data-at="${at}"]`);
    await page.click('#picker .reason-option[data-code="MECH"]');
    await page.click(`#picker .reason-option[data-code="${leaf}"]`);
  };

  // The stop table's rows as data, read at once.
  const stopRows = () => page.$$eval('#stops tbody tr', (trs) => trs.map((tr) => {
    const b = tr.querySelector('button.pick');
    return { machine: b?.dataset.machine, at: b?.dataset.at, kind: tr.children[2].textContent, plannedS: Number(tr.dataset.plannedS) };
  }));

  // Clicks the card's CSV and PNG buttons and checks what is downloaded.
  const exportsOf = async (card) => {
    for (const [kind, check] of [['csv', (b) => assert.match(b.toString('utf8'), /^[a-z_]+,/)], ['png', (b) => assert.equal(b.subarray(1, 4).toString(), 'PNG')]]) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${card} .export-${kind}`)]);
      assert.equal(download.suggestedFilename(), `${card}.${kind}`);
      check(readFileSync(await download.path()));
    }
  };

  // The x scale (seconds) of the uPlot chart in `sel` (charts.js keeps every chart's uPlot).
  const xScale = (sel) => page.evaluate((s) => { const u = chartOf(s); return [u.scales.x.min, u.scales.x.max]; }, sel);

  await step('the machine page: timeline axis, zoom and legend; trend gaps; live refresh', async () => {
    const machine = await page.$$eval('.tile[data-machine]', (els) => els[0].dataset.machine);
    await page.goto(base + '/#machine=' + encodeURIComponent(machine));
    await page.waitForSelector('#timeline canvas');
    // The plant file's description under the title, where it gives one (the demo's fillers).
    const description = await page.evaluate((m) => machineSpec(m).description, machine);
    assert.equal(await page.evaluate(() => machineSpec('berlin/bottling/pet1/filler').description), '40 filling valves, PET 0.5 and 1.5 l');
    assert.equal(await page.$eval('main', (e) => e.querySelector('.description')?.textContent ?? null), description ?? null);
    // The time axis: uPlot's tick labels, in the plant's time zone (hh:mm, or a date at midnight).
    const ticks = await page.evaluate(() => chartOf('#timeline').axes[0]._values);
    assert.ok(ticks.filter((t) => /^\d{1,2}:\d\d|^\d{1,2}\/\d{1,2}/.test(t)).length >= 3, 'fewer than 3 time labels: ' + ticks);
    for (const sel of ['#timeline', '#trend', '#pareto']) assert.ok(await page.getAttribute(sel + ' canvas', 'aria-label'), sel + ' has no label');
    const legend = await page.$$eval('#timeline .u-legend .u-series .u-label', (els) => els.map((e) => e.textContent));
    for (const s of ['running', 'stopped', 'no data']) assert.ok(legend.includes(s), 'legend lacks ' + s);
    // The buttons halve and double the span shown, around its middle.
    const span = Number(await page.getAttribute('#timeline', 'data-span'));
    const [x0, x1] = await xScale('#timeline');
    assert.ok(Math.abs(x1 - x0 - span) <= 1);
    await page.click('#zoom-in');
    assert.ok(Math.abs(Number(await page.getAttribute('#timeline', 'data-span')) - span / 2) <= 1, 'zoom in does not halve the span');
    const [z0, z1] = await xScale('#timeline');
    assert.ok(z0 > x0 && z1 < x1 && Math.abs(z1 - z0 - (x1 - x0) / 2) <= 1, 'the x scale did not narrow');
    await page.click('#zoom-out');
    await page.click('#zoom-reset');
    assert.equal(Number(await page.getAttribute('#timeline', 'data-span')), span);
    // Drag across the middle half of the plot: the scale is that half; a double-click shows it all.
    const box = await (await page.$('#timeline .u-over')).boundingBox();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const [d0, d1] = await xScale('#timeline');
    assert.ok(Math.abs(d1 - d0 - (x1 - x0) / 2) <= (x1 - x0) * 0.02, `drag zoom: ${d1 - d0} s shown of ${x1 - x0}`);
    assert.ok(Math.abs(d0 - (x0 + (x1 - x0) / 4)) <= (x1 - x0) * 0.02, 'drag zoom: not the part dragged across');
    // The bar under the cursor is told below the chart.
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    assert.match(await page.textContent('#chart-timeline .readout'), /^\d\d:\d\d \S/);
    await page.mouse.dblclick(box.x + box.width * 0.5, box.y + box.height / 2);
    assert.deepEqual(await xScale('#timeline'), [x0, x1]);
    // An hour without planned time is a gap (null in the plotted data, not 0 %) over a band; an hour
    // with no-data time is banded too; the target is a line of its own.
    const gaps = await page.evaluate(async () => {
      const card = document.createElement('div'), el = document.createElement('div');
      card.append(el);
      document.querySelector('#chart-trend').after(card);
      const u = trendChart(el, [
        { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z', oee: 0.5, planned_production_time_s: 3600, no_data_s: 0 },
        { from: '2026-01-01T01:00:00Z', to: '2026-01-01T02:00:00Z', oee: null, planned_production_time_s: 0, no_data_s: 0 },
        { from: '2026-01-01T02:00:00Z', to: '2026-01-01T03:00:00Z', oee: 0.6, planned_production_time_s: 3600, no_data_s: 600 }], 0.75);
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)));  // uPlot draws in a microtask
      // Canvas pixels (alpha) near the top of each hour: only the banded hours are painted there.
      const alpha = (i) => u.ctx.getImageData(Math.round(u.valToPos(u.data[0][i] + 1234, 'x', true)), Math.round(u.bbox.top + 4), 1, 1).data[3];
      const out = { oee: u.data[1], target: u.data[2], bands: charts.get(el).state.bands.map((b) => b.kind), alpha: [0, 1, 2].map(alpha),
        rows: [...el.parentElement.querySelectorAll('.chart-data tr[data-band]')].map((r) => r.dataset.band) };
      card.remove();
      return out;
    });
    assert.deepEqual(gaps.oee.slice(0, 3), [50, null, 60]);
    assert.ok(gaps.target.slice(0, 3).every((t) => t === 75), 'no target line');
    assert.deepEqual(gaps.bands, ['noplan', 'nodata']);
    assert.equal(gaps.alpha[0], 0, 'a planned hour is banded');
    assert.ok(gaps.alpha[1] > 0 && gaps.alpha[2] > 0, 'a band is missing: ' + gaps.alpha);
    assert.deepEqual(gaps.rows, ['noplan', 'nodata']);
    // The charts reload by themselves while the page is open: new data on the same canvases, the zoom kept.
    await page.click('#zoom-in');
    const zoomed = await xScale('#timeline');
    await page.evaluate(() => { window.seenCanvases = ['#timeline', '#trend', '#pareto'].map((s) => document.querySelector(s + ' canvas')); });
    const loaded = await page.getAttribute('#trend', 'data-loaded');
    await page.waitForFunction((l) => document.querySelector('#trend').dataset.loaded !== l, loaded, { timeout: 30000 });
    assert.ok(await page.evaluate(() => window.seenCanvases.every((c, i) => c.isConnected && c === document.querySelector(['#timeline', '#trend', '#pareto'][i] + ' canvas'))),
      'a chart was built again on refresh');
    assert.deepEqual(await xScale('#timeline'), zoomed, 'the refresh lost the zoom');
    await page.click('#zoom-reset');
    await exportsOf('chart-timeline');
    await exportsOf('chart-trend');
    await shoot(page, '3-machine');
  });

  await step('pick a reason from the tree as operator and see the Pareto change', async () => {
    // The last 24 h always hold stops, even minutes after a shift change.
    await page.selectOption('#window', 'day');
    await page.waitForSelector('#stops[data-window="day"] table');
    assert.equal(await page.$$eval('#stops input', (els) => els.length), 0, 'free text next to a reason tree');
    // Not the newest stops: the demo's simulated operator gives a recent stop its reason a little
    // later, which would replace ours (the reason given last wins).
    const rows = (await stopRows()).slice(2);
    let assigned = false;
    for (const row of rows) {
      // Only a stop inside planned production time is a loss the Pareto shows (not one in a break).
      if (row.kind === 'planned_stop' || !(row.plannedS > 0)) continue;
      await pickReason(row, 'PW_JAM');
      await page.waitForFunction(() => charts.get(document.querySelector('#pareto'))?.state.names.includes('PW_JAM'));
      assigned = true;
      break;
    }
    assert.ok(assigned, 'no unplanned stop in the last 24 h');
    assert.equal(await page.$('#picker'), null, 'the picker stays open after sending');
    await page.screenshot({ path: join(shots, '4-reason-assigned.png'), fullPage: true });
  });

  await step('a viewer is refused', async () => {
    await page.click('#logout');
    await login('vik', 'viewer-password');
    const machine = await page.$$eval('.tile[data-machine]', (els) => els[0].dataset.machine);
    await page.goto(base + '/#machine=' + encodeURIComponent(machine));
    // The last 24 h, as above: minutes after a shift change the shift holds no stop to try.
    await page.waitForSelector('#window');
    await page.selectOption('#window', 'day');
    await page.waitForSelector('#stops[data-window="day"] tbody tr button.pick');
    expected.add('/api/v1/stops/reason').add('403');
    await pickReason((await stopRows())[0], 'PW_MOTOR');
    await page.waitForFunction(() => document.querySelector('#stop-error').textContent.includes("needs the role 'operator'"));
    expected.clear();
    assert.ok(!(await page.evaluate(() => charts.get(document.querySelector('#pareto')).state.names.includes('PW_MOTOR'))));
    await page.screenshot({ path: join(shots, '5-viewer-refused.png'), fullPage: true });
  });

  await step('analysis: presets, comparison, waterfall, trends, Pareto drill-down to the stops, exports, a URL that holds the view', async () => {
    await page.goto(base + '/#analysis');
    await page.waitForSelector('#chart-waterfall canvas');
    const steps = await page.$$eval('#chart-waterfall tr[data-step]', (els) => els.map((e) => e.dataset.step));
    assert.equal(steps.length, 9);
    assert.equal(steps[0], 'planned time');
    assert.equal(steps[8], 'fully productive');
    // The steps add up: planned time less the losses is the fully productive time.
    const secs = await page.$$eval('#chart-waterfall tr[data-step]', (els) => els.map((e) => Number(e.dataset.seconds)));
    assert.ok(Math.abs(secs[0] - secs.slice(1, 8).reduce((a, b) => a + b, 0) - secs[8]) < 1, 'the waterfall does not add up: ' + secs);
    // What is plotted: the totals stand on zero, each loss hangs from the level the step before left.
    const plotted = await page.evaluate(() => { const el = document.querySelector('#chart-waterfall [data-chart]'); const c = charts.get(el);
      return { totals: c.u.data[1], tops: c.u.data[2], bottoms: c.state.bottom }; });
    assert.ok(Math.abs(plotted.totals[0] - secs[0] / 3600) < 1e-9 && Math.abs(plotted.totals[8] - secs[8] / 3600) < 1e-9, 'totals plotted: ' + plotted.totals);
    let level = secs[0] / 3600;
    for (let i = 1; i < 8; i++) {
      assert.ok(plotted.totals[i] === null && Math.abs(plotted.tops[i] - level) < 1e-9 && Math.abs(plotted.bottoms[i] - (level - secs[i] / 3600)) < 1e-9, `loss ${i} plotted wrong`);
      level -= secs[i] / 3600;
    }
    await page.click('.preset[data-preset="week"]');
    await page.waitForFunction(() => location.hash.includes('by=day'));
    const week = await page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1])));
    assert.ok(Math.abs(Date.parse(week.to) - Date.parse(week.from) - 7 * 86400e3) < 60e3, 'the week preset is not 7 days');
    // It ends at the server's now (at --speed 10 minutes ahead of the browser's clock by now), not the browser's.
    const serverAt = await page.evaluate(() => serverNow());
    assert.ok(Math.abs(Date.parse(week.to) - serverAt) < 300e3, `the week preset ends at ${week.to}, the server's clock reads ${new Date(serverAt).toISOString()}`);
    await page.waitForSelector('#chart-trend-0 canvas');
    await page.click('.preset[data-preset="day"]');
    await page.waitForFunction(() => location.hash.includes('by=hour'));
    await page.waitForSelector('#chart-trend-0 canvas');
    // Two lines side by side; the URL holds them, so a reload (or a colleague) sees the same view.
    const two = await page.$$eval('select[name=nodes] option', (os) => os.filter((o) => !o.textContent.startsWith('·')).slice(0, 2).map((o) => o.value));
    await page.selectOption('select[name=nodes]', two);
    await page.click('#analysis-form button[type=submit]');
    await page.waitForFunction((n) => document.querySelectorAll('#chart-compare tbody tr').length === n && document.querySelector('#chart-trend-1 canvas'), 2);
    await page.reload();
    await page.waitForSelector('#chart-trend-1 canvas');
    assert.deepEqual(await page.$$eval('#chart-compare tbody tr', (rs) => rs.map((r) => r.dataset.node)), two);
    for (const card of ['chart-compare', 'chart-waterfall', 'chart-trend-0', 'chart-trend-1']) await exportsOf(card);
    // The Pareto of the first node drills from the tree's top level (MECH) to PW_JAM and its stops.
    await page.waitForSelector('#pareto-drill .drill');
    await exportsOf('chart-pareto');
    // Tap MECH's bar on the chart itself: where uPlot draws that slot.
    const at = await page.evaluate(() => { const u = chartOf('#pareto-drill .chart'); const i = charts.get(u.root.parentElement).state.names.indexOf('MECH');
      const r = u.over.getBoundingClientRect(); return i < 0 ? null : { x: r.left + u.valToPos(i, 'x'), y: r.bottom - 3 }; });
    assert.ok(at, 'no MECH bar');
    await page.mouse.move(at.x, at.y);
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#pareto-drill .drill[data-reason="PW_JAM"]');
    assert.match(await page.evaluate(() => location.hash), /drill=MECH(&|$)/);
    assert.deepEqual(await page.$$eval('#pareto-drill .drill', (els) => els.map((e) => e.dataset.reason).filter((r) => !r.startsWith('PW_'))), []);
    await page.click('#pareto-drill .drill[data-reason="PW_JAM"]');
    await page.waitForSelector('#drill-stops tbody tr');
    assert.deepEqual([...new Set(await page.$$eval('#drill-stops tbody td:nth-child(4)', (els) => els.map((e) => e.textContent)))], ['PW_JAM']);
    await exportsOf('chart-pareto');
    await page.click('.crumb[data-depth="0"]');
    await page.waitForSelector('#pareto-drill .drill[data-reason="MECH"]');
    await shoot(page, '6-analysis');
  });

  await step('the printable shift report, and its Print button works under the CSP', async () => {
    await page.goto(base + '/#report');
    await page.waitForSelector('h1:has-text("Shift report")');
    await page.evaluate(() => { window.print = () => { document.body.dataset.printed = 'yes'; }; });
    await page.click('#print');
    await page.waitForSelector('body[data-printed="yes"]');
    await shoot(page, '7-shift-report');
  });

  await step('the scoreboard on a kiosk: a display token entered once, rotating through lines', async () => {
    const created = JSON.parse(await adminApi('/api/v1/tokens', { name: 'tv-hall-1', role: 'display' }));
    const tv = await browser.newPage();
    tv.setDefaultTimeout(60000);
    watch(tv);
    await tv.setViewportSize({ width: 1920, height: 1080 });
    await tv.goto(base + '/#andon');
    await tv.fill('input[name=display_token]', created.token);
    await tv.click('#display-login button[type=submit]');
    await tv.waitForSelector('#andon .andon-machine');
    assert.ok(!tv.url().includes(created.token), 'the token is in the URL');
    assert.equal(await tv.evaluate(() => localStorage.getItem('oee-display-token')), created.token);
    await tv.waitForFunction(() => [...document.querySelectorAll('.andon-oee')].some((e) => /\d+\.\d%/.test(e.textContent)));
    const cards = await tv.$$eval('.andon-machine', (els) => els.length);
    assert.equal(cards, 4);
    assert.match(await tv.textContent('.andon-left'), /left|no shift/);
    await shoot(tv, '8-scoreboard');
    // It comes back after a reload without a login, and rotates to the next line by itself.
    await tv.reload();
    await tv.waitForSelector('#andon .andon-machine');
    const first = await tv.getAttribute('#andon', 'data-line');
    await tv.waitForFunction((f) => document.querySelector('#andon').dataset.line !== f, first, { timeout: 30000 });
    // A pinned machine stays.
    const machine = await tv.getAttribute('.andon-machine', 'data-machine-card');
    await tv.goto(base + '/#andon=' + encodeURIComponent(machine));
    await tv.waitForSelector(`#andon[data-pinned="${machine}"] .andon-machine`);
    assert.deepEqual(await tv.$$eval('.andon-machine', (els) => els.map((e) => e.dataset.machineCard)), [machine]);
    await tv.close();
  });
});
console.log('screenshots in ' + shots);
process.exit(failed ? 1 : 0);
