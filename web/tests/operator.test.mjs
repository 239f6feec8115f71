// Browser tests of the operator station (#operator) and the live feed's token, in headless Chromium
// (Debian's) driven by playwright-core, against the `oee serve --demo` run_browser_tests.sh started:
// the WebSocket carries its token in Sec-WebSocket-Protocol, never in the URL; every button of the
// station on a tablet (44 px targets): a run started and ended, rejects, a reason from the tree, a
// note, each checked on the server; splitting a stop (the instant picked inside it, a reason each
// from the tree; the stop list and the Pareto show both parts; a split the server refuses is shown);
// the outbox on a poor network (the route blocked, the action kept over a reload, sent once
// unblocked); a viewer's refused action shown, not dropped; stop timers and the shift's time left
// count on the server's clock (the demo's runs at --speed 10); the scoreboard's badge has no sign. No console error, CSP violation
// or failed request but those a step provokes on purpose. Screenshots: $OEE_SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { base, shots, withBrowser } from './browser_harness.mjs';

const TABLET = { width: 800, height: 1280 };

async function asAdmin(path, body) {
  const r = await fetch(base + path, { method: body ? 'POST' : 'GET', body: body && JSON.stringify(body),
    headers: { Authorization: 'Bearer ' + process.env.OEE_ADMIN_TOKEN, 'Content-Type': 'application/json' } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}
// The newest audit rows of an action (the server's record of what the station sent).
const audited = async (action) => (await asAdmin('/api/v1/audit?limit=50')).items.filter((i) => i.action === action);

await asAdmin('/api/v1/users', { name: 'otto', password: 'operator-password', role: 'operator' });
await asAdmin('/api/v1/users', { name: 'vesna', password: 'viewer-password', role: 'viewer' });

const problems = [];
// What a step provokes on purpose: a blocked route's failures, a viewer's 403.
const allowed = { blocked: null, refused: null };
function watch(page) {
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (allowed.blocked && m.text().includes('ERR_INTERNET_DISCONNECTED')) return;
    if (allowed.refused && m.text().includes(String(allowed.refused))) return;
    problems.push('console error: ' + m.text());
  });
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText === 'net::ERR_ABORTED' || r.url().includes('/api/v1/live')) return;
    if (allowed.blocked && r.url().endsWith(allowed.blocked)) return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && r.status() !== allowed.refused) problems.push(`failed request: ${r.status()} ${r.url()}`);
  });
}
const step = async (name, fn) => {
  const t0 = Date.now();
  await fn();
  if (problems.length) throw new Error(problems.join('\n'));
  console.log(`ok ${name} (${Date.now() - t0} ms)`);
};

// The station runs on a tablet, by touch. Its own page watch (above): a step fails at once.
const failed = await withBrowser(async (browser) => {
  const page = await browser.newPage();
  page.setDefaultTimeout(60000);  // a loaded CI machine: a wait that succeeds returns at once
  watch(page);
  const cdp = await browser.newCDPSession(page);
  await cdp.send('Network.enable');
  const handshakes = [];
  cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => handshakes.push(e));
  const logIn = async (user, password) => {
    await page.goto(base + '/');
    await page.fill('input[name=user]', user);
    await page.fill('input[name=password]', password);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#live.on');
  };
  const pending = () => page.getAttribute('#outbox', 'data-pending');
  const allSent = () => page.waitForSelector('#outbox[data-pending="0"] .sent');
  // The station shows what the server holds once it read again after the outbox sent.
  const reloaded = async (fn) => {
    const before = await page.getAttribute('#station-machines', 'data-loaded');
    await fn();
    await page.waitForFunction((b) => document.querySelector('#station-machines').dataset.loaded !== b, before);
  };

  await step('the live feed takes its token from Sec-WebSocket-Protocol, not from the URL', async () => {
    await logIn('otto', 'operator-password');
    const h = handshakes.at(-1);
    assert.ok(h, 'no WebSocket handshake seen');
    const url = await page.evaluate(() => socket.url);
    assert.equal(url, base.replace(/^http/, 'ws') + '/api/v1/live', 'not the bare route: ' + url);
    const offered = Object.entries(h.request.headers).find(([k]) => k.toLowerCase() === 'sec-websocket-protocol')?.[1] || '';
    assert.match(offered, /^oee\.live\.v1, bearer\.[A-Za-z0-9_-]+$/);
    assert.equal(await page.evaluate(() => socket.protocol), 'oee.live.v1');
  });

  const line = await page.evaluate(() => lines()[0]);
  await step('the station lists the open and recent stops of the chosen machines, touch targets >= 44 px', async () => {
    await page.goto(base + '/#operator=' + encodeURIComponent(line.path));
    await page.waitForSelector('#station-machines[data-loaded] .station-machine');
    assert.deepEqual(await page.$$eval('.station-machine', (els) => els.map((e) => e.dataset.stationMachine)), line.machines.map((m) => m.path));
    assert.ok(await page.$$eval('.station-stops tbody tr', (rows) => rows.length) > 0, 'no stops in the last 8 h');
    const small = await page.$$eval('#station button, #station input, #station summary', (els) => els.filter((e) => e.offsetParent)
      .map((e) => [e.className || e.tagName, e.getBoundingClientRect()]).filter(([, r]) => r.width < 44 || r.height < 44).map(([n]) => n));
    assert.deepEqual(small, [], 'touch targets under 44 px');
    // A card lists its 10 newest stops; "Older stops" adds the next 10 below them.
    const busy = await page.$eval('.station-machine:has(.stops-more)', (e) => e.dataset.stationMachine);
    const stopsOf = () => page.$$eval(`[data-station-machine="${busy}"] .station-stops tbody tr td:first-child`, (tds) => tds.map((td) => td.textContent));
    const newest = await stopsOf();
    assert.equal(newest.length, 10);
    await reloaded(() => page.click(`[data-station-machine="${busy}"] .stops-more`));
    const more = await stopsOf();
    assert.ok(more.length > 10 && more.length <= 20, `${more.length} stops after "Older stops"`);
    assert.ok(newest.slice(0, 9).every((t) => more.includes(t)), 'the newest stops are no longer listed');
    // Choosing machines: one off (its card goes), on again.
    await page.click('#station-choose summary');
    const first = line.machines[0].path;
    await reloaded(() => page.click(`.station-toggle[data-path="${first}"]`));
    assert.equal(await page.$(`[data-station-machine="${first}"]`), null);
    await reloaded(() => page.click(`.station-toggle[data-path="${first}"]`));
    assert.equal(await page.getAttribute(`.station-toggle[data-path="${first}"]`, 'aria-pressed'), 'true');
    await page.screenshot({ path: join(shots, '9-station-tablet.png'), fullPage: true });
  });

  const machine = line.machines[0].path;
  const card = `[data-station-machine="${machine}"]`;
  const run = 'WO-' + Date.now();
  await step('start and end a run', async () => {
    await page.click(`${card} .run-start`);
    await page.click('#station-form .dialog-cancel');
    assert.equal(await page.$('#station-form'), null);
    await page.click(`${card} .run-start`);
    await page.fill('#station-form input[name=run]', run);
    await page.fill('#station-form input[name=product]', 'water-still-0.5l');
    await page.fill('#station-form input[name=quantity]', '500');
    await page.click('#station-form .dialog-ok');
    await allSent();
    await page.waitForSelector(`${card} .station-run[data-run="${run}"]`);
    const runs = await asAdmin(`/api/v1/runs?machine=${encodeURIComponent(machine)}&from=${encodeURIComponent(new Date(Date.now() - 3600e3).toISOString())}`);
    assert.deepEqual(runs.runs.filter((r) => r.run === run).map((r) => [r.product, r.quantity, r.end]), [['water-still-0.5l', 500, null]]);
    await page.click(`${card} .run-end`);
    await page.click('#station-form .dialog-ok');
    await allSent();
    await page.waitForFunction(([c, r]) => document.querySelector(`${c} .station-run`).dataset.run !== r, [card, run]);
    assert.equal((await audited('run.end')).filter((a) => a.target === `${machine}@${run}`).length, 1);
  });

  await step('report rejects with the stepper', async () => {
    await page.click(`${card} .rejects`);
    await page.click('#station-form .step[data-step="1"]');
    await page.click('#station-form .step[data-step="1"]');
    await page.click('#station-form .step[data-step="1"]');
    await page.click('#station-form .step[data-step="-1"]');
    await page.click('#station-form .dialog-ok');
    await allSent();
    const row = (await audited('rejects.report'))[0];
    assert.equal(row.target, machine);
    assert.equal(JSON.parse(row.after).reject, 3);
  });

  // A stop of the card that takes a reason (unplanned), not among the newest two: the demo's own
  // simulated operator gives recent stops a reason a little later, which would replace ours.
  // Returns the stop's instant: rows are redrawn when a state changes, so nothing holds an element.
  const stopAt = async () => {
    const ats = await page.$$eval(`${card} .station-stops tbody tr button.stop-reason`, (bs) => bs.map((b) => b.dataset.at));
    return ats[Math.min(2, ats.length - 1)];
  };
  await step('a reason from the tree, one tap per level; a note', async () => {
    const at = await stopAt();
    assert.ok(at, 'no stop to give a reason');
    await page.click(`${card} button.stop-reason[data-at="${at}"]`);
    await page.click('#picker .reason-option[data-code="MECH"]');
    await page.click('#picker .picker-back');
    await page.click('#picker .picker-cancel');
    assert.equal(await page.$('#picker'), null);
    await page.click(`${card} button.stop-reason[data-at="${at}"]`);
    await page.click('#picker .reason-option[data-code="MECH"]');
    await page.click('#picker .reason-option[data-code="PW_JAM"]');
    await allSent();
    assert.match((await audited('reason.assign'))[0].after, /PW_JAM/);
    await page.click(`${card} button.stop-note[data-at="${at}"]`);
    await page.fill('#station-form textarea', 'die changed twice');
    await page.click('#station-form .dialog-ok');
    await allSent();
    assert.match((await audited('comment.add'))[0].after, /die changed twice/);
    await page.waitForFunction(([c, a]) => document.querySelector(`${c} button.stop-note[data-at="${a}"]`)?.closest('tr').textContent.includes('notes'), [card, at]);
  });

  // The longest ended unplanned stop of the line's machines inside planned time (the Pareto counts
  // planned time only), as the station loaded it.
  const splitCandidate = () => page.evaluate(() => [...stationData.values()].flatMap((d) => d.stops.filter(splittable)
    .filter((s) => s.planned_s === s.duration_s && s.duration_s >= 10)).sort((a, b) => b.duration_s - a.duration_s)[0] || null);
  const seconds = (t) => t.split(':').reduce((a, v) => a * 60 + Number(v), 0);
  const byName = (bars) => Object.fromEntries(bars.map((b) => [b.name, b.seconds]));
  let part2 = null;  // the second part of the split stop, for the refusal
  await step('split a stop: the instant inside it, each part a reason from the tree; the stop list and the Pareto show both', async () => {
    const stop = await splitCandidate();
    assert.ok(stop, 'no ended unplanned stop to split');
    const card = `[data-station-machine="${stop.machine}"]`;
    await page.click(`${card} button.stop-split[data-at="${stop.from}"]`);
    await page.waitForSelector('#station-form #split-range');
    const small = await page.$$eval('#station-form button, #station-form input', (els) => els.map((e) => [e.className || e.id, e.getBoundingClientRect()])
      .filter(([, r]) => r.width < 44 || r.height < 44).map(([n]) => n));
    assert.deepEqual(small, [], 'touch targets under 44 px in the split dialog');
    // The steps move the instant and stay inside the stop.
    const value = () => page.$eval('#split-range', (e) => Number(e.value));
    const middle = await value();
    await page.click('#station-form .split-step[data-step="-10"]');
    assert.equal(await value(), Math.max(middle - 10, Math.ceil((Date.parse(stop.from) + 1000) / 1000)));
    for (let i = 0; i <= (Date.parse(stop.to) - Date.parse(stop.from)) / 60000 + 1; i++) await page.click('#station-form .split-step[data-step="60"]');
    const hi = await value();
    assert.equal(hi, Math.floor((Date.parse(stop.to) - 1000) / 1000), 'the steps go past the end of the stop');
    await page.click('#station-form .split-step[data-step="-60"]');
    const split = await value() * 1000;
    assert.ok(split > Date.parse(stop.from) && split < Date.parse(stop.to));
    assert.equal(seconds((await page.textContent('#split-parts')).match(/before: (\S+)/)[1]), Math.floor((split - Date.parse(stop.from)) / 1000));
    const splitText = await page.textContent('#split-time');
    assert.match(splitText, /^\d\d:\d\d:\d\d$/);
    await page.screenshot({ path: join(shots, '11-station-split-tablet.png'), fullPage: true });
    await page.click('#station-form .dialog-ok');
    // Part 1, then part 2: one tap per level each.
    await page.click('#picker .reason-option[data-code="MECH"]');
    await page.click('#picker .reason-option[data-code="PW_MOTOR"]');
    await page.waitForFunction((t) => document.querySelector('#picker h3')?.textContent.includes(t), splitText);  // part 2 starts there
    await page.click('#picker .reason-option[data-code="PW_CLEAN"]');
    await allSent();
    // The server: two stops with their reasons, and the Pareto of the stop's time shows both.
    const q = `node=${encodeURIComponent(stop.machine)}&from=${encodeURIComponent(stop.from)}&to=${encodeURIComponent(stop.to)}`;
    const parts = (await asAdmin('/api/v1/stops?' + q)).items.filter((s) => Date.parse(s.from) >= Date.parse(stop.from))
      .map((s) => [Date.parse(s.from), Date.parse(s.to), s.reason]);
    assert.deepEqual(parts, [[split, Date.parse(stop.to), 'PW_CLEAN'], [Date.parse(stop.from), split, 'PW_MOTOR']]);
    const bars = byName((await asAdmin('/api/v1/pareto?' + q)).bars);
    assert.ok(Math.abs(bars.PW_MOTOR - (split - Date.parse(stop.from)) / 1000) < 0.01, JSON.stringify(bars));
    assert.ok(Math.abs(bars.PW_CLEAN - (Date.parse(stop.to) - split) / 1000) < 0.01, JSON.stringify(bars));
    const audit = (await audited('stop.split'))[0];
    assert.equal(audit.target.split('@')[0], stop.machine);
    assert.equal(Date.parse(audit.target.split('@')[1]), Date.parse(stop.from));
    // Two corrections made by the operator (his session's pseudonym, as the audit row's actor).
    const made = (await asAdmin('/api/v1/corrections?' + q)).corrections.filter((c) => c.by === audit.actor);
    assert.deepEqual(made.map((c) => [Date.parse(c.at), c.kind, c.reason]).sort((x, y) => x[0] - y[0]),
      [[Date.parse(stop.from), 'reclassify', 'PW_MOTOR'], [split, 'reclassify', 'PW_CLEAN']]);
    // The station lists the parts with their reasons (the first may have left its ten newest stops).
    await page.waitForFunction(([c, a, b]) => {
      const rows = [...document.querySelectorAll(`${c} .station-stops tbody tr`)];
      const reasonAt = (t) => rows.find((r) => Date.parse(r.querySelector('button.stop-note').dataset.at) === t)?.children[3].textContent;
      return (reasonAt(a) === undefined || reasonAt(a).startsWith('PW_MOTOR')) && reasonAt(b)?.startsWith('PW_CLEAN');
    }, [card, Date.parse(stop.from), split]);
    part2 = await page.evaluate(([m, t]) => stationData.get(m).stops.find((s) => Date.parse(s.from) === t), [stop.machine, split]);
    await page.screenshot({ path: join(shots, '12-station-split-done-tablet.png'), fullPage: true });
  });

  await step('a split the server refuses (the stop was split meanwhile) is shown with its reason', async () => {
    assert.ok(part2 && part2.to, 'no second part to split');
    const card = `[data-station-machine="${part2.machine}"]`;
    await page.click(`${card} button.stop-split[data-at="${part2.from}"]`);
    await page.$eval('#split-range', (e) => { e.value = e.max; e.dispatchEvent(new Event('input')); });
    // Someone else splits the part a second after its start: the instant chosen here is past that stop now.
    const other = new Date(Date.parse(part2.from) + 1000).toISOString();
    await asAdmin('/api/v1/stops/split', { machine: part2.machine, at: part2.from, split: other, before: 'PW_JAM', after: 'PW_CLEAN' });
    allowed.refused = 400;
    await page.click('#station-form .dialog-ok');
    await page.click('#picker .reason-option[data-code="PW_CLEAN"]');
    await page.click('#picker .reason-option[data-code="PW_CLEAN"]');
    await page.waitForSelector('#outbox [data-refused-item]');
    assert.match(await page.textContent('#outbox'), /Refused: .*split the stop at .*'split' must be an RFC 3339 instant inside the stop/);
    allowed.refused = null;
    await page.screenshot({ path: join(shots, '13-station-split-refused-tablet.png'), fullPage: true });
    await page.click('#outbox button.dismiss');
    await page.waitForSelector('#outbox[data-pending="0"]:not(.refused)');
  });

  await step('a poor network: the action waits in the outbox (over a reload), is retried and sent once the route is back', async () => {
    const sentBefore = (await audited('rejects.report')).length;
    allowed.blocked = '/api/v1/rejects';
    await page.route('**/api/v1/rejects', (r) => r.abort('internetdisconnected'));
    await page.click(`${card} .rejects`);
    await page.fill('#station-form input[name=reject]', '2');
    await page.click('#station-form .dialog-ok');
    await page.waitForSelector('#outbox[data-pending="1"]');
    await page.waitForFunction(() => document.querySelector('#outbox').textContent.includes('no network'));  // the first try failed
    assert.match(await page.textContent('#outbox'), /Not sent yet: 1.*2 rejects.*no network/s);
    await page.click('#send-now');  // still blocked: it stays
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('oee-outbox'))[0]?.tries >= 2);
    await page.reload();
    await page.waitForSelector('#outbox[data-pending="1"] [data-pending-item]');
    await page.waitForSelector('#station-machines[data-loaded] .station-machine');
    await page.screenshot({ path: join(shots, '10-station-outbox-tablet.png'), fullPage: true });
    assert.equal((await audited('rejects.report')).length, sentBefore, 'sent while blocked');
    await page.unroute('**/api/v1/rejects');
    await allSent();  // by the retry alone (2 s, then doubling), no button
    allowed.blocked = null;
    const rows = await audited('rejects.report');
    assert.equal(rows.length, sentBefore + 1);
    assert.equal(JSON.parse(rows[0].after).reject, 2);
  });

  await step("timers count on the server's clock (--speed 10): a stop begun seconds ago runs at once and ten times as fast; the shift's time left goes down", async () => {
    // The server's clock as node reads it; `at(wall)`: the server's now at a wall-clock instant.
    const askedAt = Date.now();
    const plant = await asAdmin('/api/v1/plant');
    const readAt = (askedAt + Date.now()) / 2;  // halfway through the round trip (the page does the same)
    assert.equal(plant.clock_rate, 10);
    const at = (wall) => Date.parse(plant.now) + (wall - readAt) * plant.clock_rate;
    // Both readings of the server's clock (this test's, the page's) may be off by rate x half their
    // round trip: `slack()`, in the server's seconds, is the sum, plus a second for the display's
    // rounding down. On a loaded machine a round trip takes hundreds of ms, at 10x seconds of it.
    const ownUncertainty = readAt - askedAt;
    const slack = async () => {
      const pages = await page.evaluate(() => serverClock.uncertainty);
      assert.ok(Number.isFinite(pages), 'the page read the server clock without timing the round trip');
      return 1 + plant.clock_rate * (ownUncertainty + pages) / 1000;
    };
    // The formula, on the page's own function: a stop begun 1 h 2 min 3 s ago on the server's clock.
    const asked = Date.now();
    const [html, wall] = await page.evaluate((s) => [sinceHtml({ state: 'stopped', since: s }), Date.now()], new Date(at(asked) - 3723e3).toISOString());
    const shown = seconds(html.match(/>(\d+:\d\d:\d\d)</)[1]), meant = 3723 + (wall - asked) / 100;
    const formulaSlack = await slack();
    assert.ok(Math.abs(shown - meant) <= formulaSlack, `${html}: ${meant} s meant, give or take ${formulaSlack} s`);
    // A stop begun 30 s ago (server time) reads about 30 s at once, never 0:00:00 (the browser's clock
    // is minutes behind the demo's), and gains about ten seconds a wall-clock second.
    await page.reload();
    await page.waitForSelector('#station-machines[data-loaded] .station-machine');
    const since = new Date(at(Date.now()) - 30000).toISOString();
    await page.evaluate((s) => $('#station-dialog').insertAdjacentHTML('beforeend', sinceHtml({ state: 'stopped', since: s })), since);
    const timer = `#station-dialog [data-since="${since}"]`;
    const read = () => page.$eval(timer, (e) => [e.textContent, Date.now()]);
    const [first, firstAt] = await read();
    assert.notEqual(first, '0:00:00');
    const expectedFirst = (at(firstAt) - Date.parse(since)) / 1000;
    // A tick a wall second: the text may be up to ten of the server's seconds old.
    const firstSlack = await slack();
    assert.ok(seconds(first) >= expectedFirst - 10 - firstSlack && seconds(first) <= expectedFirst + firstSlack,
      `the timer reads ${first}, ${expectedFirst} s expected, give or take ${firstSlack} s`);
    await page.waitForFunction(([sel, f]) => document.querySelector(sel)?.textContent.split(':').reduce((a, v) => a * 60 + Number(v), 0) >= f + 20,
      [timer, seconds(first)], { timeout: 10000 });  // 20 s of the server's clock: 2 s of the wall's, 20 s at the browser's pace
    // Every timer of the station (live states, open stops) reads its stop's age on the server's clock
    // (a tick a wall second: up to ten of its seconds behind).
    const timers = await page.$$eval('#station-machines [data-since]', (els) => els.map((e) => [e.dataset.since, e.textContent, Date.now()]));
    const timersSlack = await slack();
    for (const [s, text, when] of timers) {
      const age = Math.max(0, (at(when) - Date.parse(s)) / 1000);
      assert.ok(seconds(text) <= age + timersSlack && seconds(text) >= age - 10 - timersSlack, `${s}: ${text}, ${age} s on the server's clock, give or take ${timersSlack} s`);
    }
    // The shift's time left: the server's shift end minus its now, going down ten seconds a second.
    const left = () => page.$eval('#shift-left', (e) => [e.textContent, Date.now()]);
    let [text, when] = await left();
    if (seconds(text.match(/(\d+:\d\d:\d\d) left/)[1]) < 60) {  // about to end: wait for the next shift
      await page.waitForFunction((t) => document.querySelector('#shift-left').textContent.split(':')[0] !== t.split(':')[0], text, { timeout: 30000 });
      plant.current_shift = (await asAdmin('/api/v1/plant')).current_shift;
      [text, when] = await left();
    }
    assert.ok(text.startsWith(plant.current_shift.name + ': '), text);
    const expected = (Date.parse(plant.current_shift.to) - at(when)) / 1000;
    const leftSlack = await slack(), shownLeft = seconds(text.match(/(\d+:\d\d:\d\d) left/)[1]);
    assert.ok(shownLeft >= expected - leftSlack && shownLeft <= expected + 10 + leftSlack,
      `${text}: ${expected} s left on the server's clock, give or take ${leftSlack} s`);
    await page.waitForFunction((f) => (document.querySelector('#shift-left').textContent.match(/(\d+:\d\d:\d\d) left/)?.[1] || '')
      .split(':').reduce((a, v) => a * 60 + Number(v), 0) <= f - 20,
      seconds(text.match(/(\d+:\d\d:\d\d) left/)[1]), { timeout: 10000 });
  });

  await step('the scoreboard badge says ahead or behind without a sign', async () => {
    const badge = await page.evaluate(() => {
      kpis.set('test/behind', { oee: 0.5, good_count: 100, planned_production_time_s: 3600, availability: 1, performance: 0.5, quality: 1 });
      kpis.set('test/ahead', { oee: 0.9, good_count: 90, planned_production_time_s: 3600, availability: 1, performance: 0.9, quality: 1 });
      const html = (path) => andonMachineHtml({ path, name: path, state: 'running', targets: { oee: 0.8 } });
      return [html('test/behind'), html('test/ahead')];
    });
    assert.match(badge[0], /data-diff="-60">60 behind</);
    assert.match(badge[1], /data-diff="10">10 ahead</);
  });

  await step('a viewer may look but not act: the refusal is shown (not dropped) and can be dismissed', async () => {
    await page.click('#logout');
    await logIn('vesna', 'viewer-password');
    await page.goto(base + '/#operator');
    await page.waitForSelector('#station-machines[data-loaded] .station-machine');
    assert.match(await page.textContent('#station'), /may look but not act/);
    allowed.refused = 403;
    await page.click(`${card} .rejects`);
    await page.click('#station-form .dialog-ok');
    await page.waitForSelector('#outbox [data-refused-item]');
    assert.match(await page.textContent('#outbox'), /Refused: .*1 rejects: this needs the role 'operator'/);
    allowed.refused = null;
    await page.click('#outbox button.dismiss');
    await page.waitForSelector('#outbox[data-pending="0"]:not(.refused)');
    for (const [size, viewport] of [['desktop', { width: 1400, height: 1000 }], ['tablet', TABLET], ['tv', { width: 1920, height: 1080 }]]) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: join(shots, `9-station-${size}.png`), fullPage: size !== 'tv' });
    }
  });
}, { viewport: TABLET, hasTouch: true });
process.exit(failed ? 1 : 0);
