// Browser tests of the administration page (#admin) and of the comparisons by shift, crew, product
// and run in #analysis, in headless Chromium against the running `oee serve --demo --mqtt` of
// run_browser_tests.sh (its plant has an alert rule that fires on any unplanned stop), with the real
// peers that script starts: a Mosquitto broker and an `oee edge` feeding one machine. The edges card
// is checked against the edge's live status and its source, then with the edge frozen (SIGSTOP)
// until the broker drops it; the dead-letter card against malformed messages this suite publishes to
// the contract's topics (docs/mqtt.md) with mosquitto_pub. Every button of the page is clicked; no
// console error, CSP violation or failed request but those provoked on purpose. Screenshots at
// desktop, tablet and TV sizes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { adminApi, adminToken, base, shoot, step, withBrowser } from './browser_harness.mjs';

const { OEE_MQTT_PORT: mqttPort, OEE_EDGE_ID: edgeId, OEE_EDGE_MACHINE: edgeMachine } = process.env;
const edgePid = Number(process.env.OEE_EDGE_PID), keepaliveS = Number(process.env.OEE_EDGE_KEEPALIVE_S);
assert.ok(mqttPort && edgeId && edgeMachine && edgePid > 0 && keepaliveS > 0,
  'run this suite through run_browser_tests.sh: it starts the broker and the edge the suite needs');
// As any MQTT client of the contract publishes: QoS 1, the payload as given (bytes too).
const publish = (topic, payload, retain = false) =>
  execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', mqttPort, '-q', '1', '-t', topic, ...(retain ? ['-r'] : []), '-s'], { input: payload });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Polls `fn` until it returns something truthy; fails naming `what` after `ms`.
async function until(what, fn, ms = 30000) {
  for (const end = Date.now() + ms; ;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(200);
  }
}
const edgesNow = async () => JSON.parse(await adminApi('/api/v1/edges'));
const sourceNow = async (src) => JSON.parse(await adminApi('/api/v1/sources?limit=1000')).find((s) => s.src === src);
// The page's own formats, written out (admin.js): an age under a second in ms, else h:mm:ss; a clock
// offset the same with its sign; bytes in B, KiB or MiB.
const two = (n) => String(n).padStart(2, '0');
const age = (ms) => (ms < 1000 ? `${ms} ms` : `${Math.floor(ms / 3600000)}:${two(Math.floor(ms / 60000) % 60)}:${two(Math.floor(ms / 1000) % 60)}`);
const offset = (ms) => (Math.abs(ms) < 1000 ? `${ms} ms` : (ms < 0 ? '-' : '+') + age(Math.abs(ms)));
const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);

await adminApi('/api/v1/users', { name: 'ada', password: 'admin-password', role: 'admin' });
await adminApi('/api/v1/users', { name: 'vera', password: 'viewer-password', role: 'viewer' });

const failed = await withBrowser(async (browser, watch, state) => {
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
  const cardLoaded = (key, after = '0') => page.waitForFunction(([k, a]) => Number(document.getElementById('admin-' + k)?.dataset.loaded || 0) > Number(a), [key, after]);
  const loadedAt = (key) => page.getAttribute('#admin-' + key, 'data-loaded');
  const cardError = (key) => page.textContent(`#admin-${key} [data-error]`);

  await step('a viewer has no administration link', async () => {
    await login('vera', 'viewer-password');
    assert.equal(await page.isVisible('#nav-admin'), false);
    await page.click('#logout');
  });

  await step('the administration page: every card loads, the in-page links work', async () => {
    await login('ada', 'admin-password');
    await page.click('#nav-admin');
    for (const key of ['users', 'tokens', 'sources', 'deadLetters', 'alerts', 'audit']) {
      await cardLoaded(key);
      assert.equal(await cardError(key), '', key + ' shows an error');
    }
    for (const link of await page.$$('.admin-nav a')) await link.click();
    assert.equal(await page.evaluate(() => location.hash), '#admin');
    // The demo's events come from sources with sequence numbers (the edge's below).
    assert.ok(await page.$$eval('#admin-sources tr[data-src]', (rs) => rs.length) >= 1, 'no source listed');
    assert.match(await page.textContent('#admin-deadLetters'), /\d+ in all/);
  });

  // Reloads a card and returns the answers of the routes it read (from the network: the page's own).
  const reloadReading = async (key, routes) => {
    const at = await loadedAt(key);
    const answers = await Promise.all([...routes.map((r) => page.waitForResponse((res) => new URL(res.url()).pathname === r)),
      page.evaluate((k) => adminLoad(k), key)]);
    await cardLoaded(key, at);
    return Promise.all(answers.slice(0, routes.length).map((res) => res.json()));
  };
  // A cell's text; for a time, the instant it shows (its text is the plant's local time: the alerts step).
  const cells = (sel) => page.$$eval(sel + ' td', (tds) => tds.map((td) => td.querySelector('time')?.dateTime ?? td.textContent));

  await step('edges: the live edge, its status report and its source as the API gives them', async () => {
    await until('the edge online, with events stored', async () =>
      (await edgesNow()).find((e) => e.edge === edgeId)?.status?.state === 'online' && (await sourceNow(edgeId))?.events > 0);
    // A status report that is not a JSON object (a retained message: it stays the edge's last one).
    publish('oee/v1/_edge/bogus-edge/status', '[1,2]', true);
    await until('the bogus status', async () => (await edgesNow()).some((e) => e.edge === 'bogus-edge'));
    const [edges, sources] = await reloadReading('sources', ['/api/v1/edges', '/api/v1/sources']);
    const { status } = edges.find((e) => e.edge === edgeId);
    assert.equal(status.state, 'online');
    assert.ok(Math.abs(Date.parse(status.ts) - Date.now()) < 30000, 'status report not live: ' + status.ts);
    assert.deepEqual(await cells(`#admin-sources tr[data-edge="${edgeId}"]`), [edgeId, 'online', status.ts, String(status.queue_depth),
      bytes(status.queue_bytes), String(status.awaiting_commit), String(status.resends), age(status.oldest_unsent_age_ms), String(status.evicted_events)]);
    assert.deepEqual(await cells('#admin-sources tr[data-edge="bogus-edge"]'),
      ['bogus-edge', 'the last status report is not a JSON object', '', '', '', '', '', '', '']);
    // Its events: the source of the incarnation its status names, sending. The edge runs on the host's
    // clock; the demo server's runs `clock_rate` times as fast from its start, so when the server saw
    // the edge last (last_seen, on its clock) the edge's clock was behind it by what the server's has
    // gained since its start (origin: where the two clocks meet), give or take transit and batching.
    const src = sources.find((s) => s.src === edgeId);
    assert.equal(src.incarnation, status.inc);
    assert.equal(src.seq_min, 0, 'a new queue numbers from 0');
    const askedAt = Date.now();
    const plant = JSON.parse(await adminApi('/api/v1/plant'));
    const [wallNow, serverNow, rate] = [(askedAt + Date.now()) / 2, Date.parse(plant.now), plant.clock_rate];
    const seen = Date.parse(src.last_seen);
    const origin = rate === 1 ? 0 : (serverNow - rate * wallNow) / (1 - rate);
    const expectedOffset = rate === 1 ? 0 : origin + (seen - origin) / rate - seen;
    assert.ok(Math.abs(src.clock_offset_ms - expectedOffset) < 30000, `clock offset ${src.clock_offset_ms} ms, ${Math.round(expectedOffset)} expected`);
    const row = `#admin-sources tr[data-src="${edgeId}"]`;
    assert.deepEqual(await cells(row), [edgeId, status.inc, 'sending', String(src.events), `${src.seq_min}–${src.seq_max}`, String(src.gaps.length),
      src.last_seen, offset(src.clock_offset_ms), String(src.future_events), String(src.conflicts)]);
    assert.equal(await page.getAttribute(row + ' td:nth-child(3)', 'class'), 'src-online');
    await shoot(page, '9-admin');
  });

  await step('dead letters: each malformed message published to the contract\'s topics, with its reason; paging', async () => {
    const events = `oee/v1/${edgeMachine}/events`, now = new Date().toISOString();
    const ghost = edgeMachine.replace(/[^/]+$/, 'ghost'), other = edgeMachine.replace(/[^/]+$/, 'filler');
    const malformed = [
      { topic: events, payload: '{"ts": ', reason: /^invalid JSON/ },
      { topic: events, payload: Buffer.from([0xff, 0xfe, 0x5b, 0x5d]), reason: /^invalid JSON/ },  // not UTF-8
      { topic: `oee/v1/${edgeMachine}/telemetry`, payload: '[]', reason: /^topic is not oee\/v1\/<site>\/<area>\/<line>\/<machine>\/events$/ },
      { topic: `oee/v1/${ghost}/events`, payload: JSON.stringify([{ ts: now, type: 'state', state: 'running' }]), reason: new RegExp(`^unknown machine '${ghost}'$`) },
      { topic: events, payload: JSON.stringify([{ ts: now, type: 'state', state: 'exploded' }]), reason: /^state 'exploded' is neither canonical/ },
      { topic: events, payload: JSON.stringify([{ ts: 'yesterday', type: 'state', state: 'running' }]), reason: /^1 invalid event\(s\): .*'ts'.*RFC 3339/ },
      { topic: events, payload: JSON.stringify([{ machine: other, ts: now, type: 'state', state: 'running' }]),
        reason: new RegExp(`^event names machine '${other}' on the events topic of machine '${edgeMachine}'`) },
      { topic: 'oee/v1/_edge/a/b/status', payload: '{}', reason: /^edge status topic without a plain edge id$/ },
      { topic: 'oee/v1/_edge/bogus-edge/status', payload: '[1,2]', reason: /^edge status is not a JSON object$/ },
    ];
    const newest = async () => JSON.parse(await adminApi('/api/v1/dead-letters?limit=1')).items[0]?.id ?? 0;
    // More than a page (50) of them, so the card pages for real.
    let last = await newest();
    execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', mqttPort, '-q', '1', '-t', events, '-l'],
      { input: Array.from({ length: 50 }, (_, i) => `not json ${i}`).join('\n') + '\n' });
    last = await until('50 dead letters', async () => { const n = await newest(); return n >= last + 50 && n; });
    // One at a time, each waited for, so each letter is known by its id.
    for (const m of malformed) {
      publish(m.topic, m.payload);
      m.id = last = await until('the dead letter of ' + m.topic, async () => { const n = await newest(); return n > last && n; });
    }
    const [first] = await reloadReading('deadLetters', ['/api/v1/dead-letters']);
    const all = JSON.parse(await adminApi('/api/v1/dead-letters?limit=100'));
    assert.equal(await page.textContent('#admin-deadLetters p:not(.error)'), `${all.total} in all`);
    assert.deepEqual(first.items.map((d) => d.id), all.items.slice(0, 50).map((d) => d.id));
    for (const m of malformed) {
      const d = all.items.find((x) => x.id === m.id);
      assert.equal(d.topic, m.topic);
      assert.match(d.reason, m.reason);
      if (typeof m.payload === 'string' && !/^(unknown|state|event names)/.test(d.reason)) assert.equal(d.payload, m.payload);
      assert.deepEqual(await cells(`#admin-deadLetters tr[data-dead-letter="${m.id}"]`), [String(m.id), d.received, d.topic, d.reason, d.payload.slice(0, 300)]);
    }
    // Not UTF-8: shown with replacement characters, not dropped.
    assert.match(all.items.find((x) => x.id === malformed[1].id).payload, /^\uFFFD\uFFFD\[\]$/);
    await shoot(page, '9-admin-dead-letters');
    let at = await loadedAt('deadLetters');
    await page.click('#admin-deadLetters .page-older');
    await cardLoaded('deadLetters', at);
    const older = await page.$$eval('#admin-deadLetters tr[data-dead-letter]', (rs) => rs.map((r) => Number(r.dataset.deadLetter)));
    assert.deepEqual(older, JSON.parse(await adminApi(`/api/v1/dead-letters?limit=50&before=${first.next_before}`)).items.map((d) => d.id));
    at = await loadedAt('deadLetters');
    await page.click('#admin-deadLetters .page-newest');
    await cardLoaded('deadLetters', at);
    assert.equal(await page.$('#admin-deadLetters tr[data-dead-letter]').then((r) => r.getAttribute('data-dead-letter')), String(malformed.at(-1).id));
  });

  await step(`edges: a frozen edge shows offline once the broker drops it (1.5 x keepalive ${keepaliveS} s)`, async () => {
    const state = `#admin-sources tr[data-edge="${edgeId}"] td:nth-child(2)`;
    await reloadReading('sources', []);
    assert.equal(await page.textContent(state), 'online');
    process.kill(edgePid, 'SIGSTOP');
    const t0 = Date.now();
    await until('the edge offline', async () => {
      await reloadReading('sources', []);
      return (await page.textContent(state)) === 'offline';
    }, 1.5 * keepaliveS * 1000 + 30000);
    const took = Date.now() - t0;
    console.log(`  offline ${took} ms after SIGSTOP (keepalive ${keepaliveS} s)`);
    // Not before the keepalive ran out: the broker waits for it (the edge's last packet was at most
    // its 1 s status interval before the stop).
    assert.ok(took >= keepaliveS * 1000, `offline after ${took} ms`);
    process.kill(edgePid, 'SIGKILL');
    // The will as the API gives it: no time, no queue figures.
    const { status } = (await edgesNow()).find((e) => e.edge === edgeId);
    assert.deepEqual(status, { edge: edgeId, state: 'offline' });
    assert.deepEqual(await cells(`#admin-sources tr[data-edge="${edgeId}"]`), [edgeId, 'offline', '', '', '', '', '', '', '']);
  });

  await step('users: add one, change its role, erase it (asked twice)', async () => {
    let at = await loadedAt('users');
    await page.fill('#user-add input[name=name]', 'neo');
    await page.fill('#user-add input[name=password]', 'neo-password-1');
    await page.selectOption('#user-add select[name=role]', 'viewer');
    await page.click('#user-add button[type=submit]');
    await cardLoaded('users', at);
    const row = '#admin-users tr[data-user="neo"]';
    assert.equal(await page.$eval(`${row} .user-role`, (s) => s.value), 'viewer');
    at = await loadedAt('users');
    await page.selectOption(`${row} .user-role`, 'operator');
    await page.click(`${row} .user-save`);
    await cardLoaded('users', at);
    assert.equal(JSON.parse(await adminApi('/api/v1/users')).find((u) => u.name === 'neo').role, 'operator');
    await page.click(`${row} .user-erase`);
    assert.ok(await page.$(row), 'erased on the first click');
    at = await loadedAt('users');
    await page.click(`${row} .user-erase`);
    await cardLoaded('users', at);
    assert.equal(await page.$(row), null);
    assert.ok(!JSON.parse(await adminApi('/api/v1/users')).some((u) => u.name === 'neo'));
    // A refusal shows in the card: a user name taken.
    state.expected.add('/api/v1/users').add('409').add('400');
    await page.fill('#user-add input[name=name]', 'ada');
    await page.fill('#user-add input[name=password]', 'another-password');
    await page.click('#user-add button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#admin-users [data-error]').textContent !== '');
    state.expected.clear();
  });

  await step('tokens: create one (its secret shown once, and it works), rotate it, revoke it', async () => {
    await page.fill('#token-add input[name=name]', 'tv-hall-2');
    await page.selectOption('#token-add select[name=role]', 'display');
    await page.click('#token-add button[type=submit]');
    await page.waitForFunction(() => /oee_/.test(document.querySelector('#token-secret')?.textContent || ''));
    const secret = (await page.textContent('#token-secret')).match(/(oee_\S+)/)[1];
    const me = await fetch(base + '/api/v1/me', { headers: { Authorization: 'Bearer ' + secret } });
    assert.equal((await me.json()).role, 'display');
    const id = JSON.parse(await adminApi('/api/v1/tokens')).find((t) => t.name === 'tv-hall-2').id;
    await page.waitForSelector(`#admin-tokens tr[data-token="${id}"]`);
    await page.click(`#admin-tokens tr[data-token="${id}"] .token-rotate`);
    await page.waitForFunction((s) => { const t = document.querySelector('#token-secret')?.textContent || ''; return /oee_/.test(t) && !t.includes(s); }, secret);
    const rotated = (await page.textContent('#token-secret')).match(/(oee_\S+)/)[1];
    const newId = JSON.parse(await adminApi('/api/v1/tokens')).find((t) => t.name === 'tv-hall-2' && t.id !== id && !t.expires)?.id;
    assert.ok(newId, 'no rotated token listed');
    const at = await loadedAt('tokens');
    await page.click(`#admin-tokens tr[data-token="${newId}"] .token-revoke`);
    await page.click(`#admin-tokens tr[data-token="${newId}"] .token-revoke`);
    await cardLoaded('tokens', at);
    assert.equal(await page.$(`#admin-tokens tr[data-token="${newId}"]`), null);
    assert.equal((await fetch(base + '/api/v1/me', { headers: { Authorization: 'Bearer ' + rotated } })).status, 401);
  });

  await step('alerts: the rules listed, a firing alert acknowledged', async () => {
    assert.deepEqual(await page.$$eval('#admin-alerts tr[data-rule]', (rs) => rs.map((r) => r.dataset.rule)), ['any-stop']);
    // The rule fires on any unplanned stop: reload the card until one is listed (evaluated every 5 s).
    // Bounded by time, not by reloads: on a loaded machine the demo's first stop can take a while,
    // and during a demo break (up to 30 minutes: 180 s at --speed 10) no machine stops unplanned.
    for (const until = Date.now() + 300e3; !(await page.$('#admin-alerts tr[data-alert]:has(.alert-ack)')) && Date.now() < until;) {
      const at = await loadedAt('alerts');
      await page.evaluate(() => adminLoad('alerts'));
      await cardLoaded('alerts', at);
      await page.waitForTimeout(1000);
    }
    const row = await page.$('#admin-alerts tr[data-alert]:has(.alert-ack)');
    assert.ok(row, 'no firing alert to acknowledge within 300 s');
    const id = await row.getAttribute('data-alert');
    // An alert's id is its rule and subject: the list may hold an earlier, or a later, episode of
    // it too (the demo's machines stop often, and one may fire between the list and the click), so
    // the row is the one with this id and firing time, and the button acknowledges that one.
    const fired = await row.getAttribute('data-fired');
    const at = await loadedAt('alerts');
    await (await row.$('.alert-ack')).click();
    await cardLoaded('alerts', at);
    const ofEpisode = `#admin-alerts tr[data-alert="${id}"][data-fired="${fired}"]`;
    const episode = await page.$$eval(ofEpisode, (rs) => rs.map((r) => ({ by: r.cells[6].textContent, button: !!r.querySelector('.alert-ack') })));
    // Acknowledged by the session's user (as the audit chain names users: its pseudonym).
    assert.equal(episode.length, 1, `the alert ${id} fired at ${fired} is listed ${episode.length} times`);
    assert.match(episode[0].by, /^u:[0-9a-f]{16}$/);
    assert.equal(episode[0].button, false);
    // Times read in the plant's zone, to the second, the exact instant (here UTC) on hover. The zone's
    // offset is that of the server's `now` (written with it), minutes ago.
    const shown = await page.$eval(`${ofEpisode} td:nth-child(5) time`, (t) => ({ text: t.textContent, at: t.dateTime, title: t.title }));
    const [, sign, hh, mm] = JSON.parse(await adminApi('/api/v1/plant')).now.match(/([+-])(\d\d):(\d\d)$/) || [, '+', '00', '00'];  // or Z
    const offsetMs = (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm)) * 60e3;
    assert.equal(shown.text, new Date(Date.parse(shown.at) + offsetMs).toISOString().slice(0, 19).replace('T', ' '), 'fired at ' + shown.at);
    assert.equal(shown.title, shown.at);
  });

  await step('audit: the writes above are rows of the chain, and it verifies', async () => {
    await page.evaluate(() => adminLoad('audit'));
    await page.waitForSelector('#admin-audit tr[data-audit]');
    const actions = await page.$$eval('#admin-audit tr[data-audit] td:nth-child(4)', (els) => els.map((e) => e.textContent));
    for (const a of ['user.create', 'user.erase', 'token.rotate', 'alert.acknowledge']) assert.ok(actions.some((x) => x.startsWith(a)), 'no audit row ' + a + ': ' + actions);
    await page.click('#audit-verify');
    await page.waitForSelector('#audit-result.verified');
    assert.match(await page.textContent('#audit-result'), /intact \(\d+ rows\)/);
    // Dead letters and audit page back and forth when a page is full.
    for (const key of ['deadLetters', 'audit']) {
      if (!(await page.$(`#admin-${key} .page-older`))) continue;
      let at = await loadedAt(key);
      await page.click(`#admin-${key} .page-older`);
      await cardLoaded(key, at);
      at = await loadedAt(key);
      await page.click(`#admin-${key} .page-newest`);
      await cardLoaded(key, at);
    }
  });

  // Clicks the card's CSV and PNG buttons and checks what is downloaded.
  const exportsOf = async (card) => {
    for (const [kind, check] of [['csv', (b) => assert.match(b.toString('utf8'), /^item,oee,/)], ['png', (b) => assert.equal(b.subarray(1, 4).toString(), 'PNG')]]) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${card} .export-${kind}`)]);
      assert.equal(download.suggestedFilename(), `${card}.${kind}`);
      check(readFileSync(await download.path()));
    }
  };

  await step('analysis side by side: by shift, by run, by product (uPlot), by crew (no rotation: the reason)', async () => {
    const plant = JSON.parse(await adminApi('/api/v1/plant'));
    const line = plant.sites[0].areas[0].lines[0];
    const machine = line.machines[0].path;
    const from = new Date(Date.now() - 4 * 3600e3).toISOString();
    for (const [run, product, ago] of [['WO-1', 'p-still', 3], ['WO-2', 'p-sparkling', 2]]) {
      const ts = new Date(Date.now() - ago * 3600e3).toISOString();
      await adminApi('/api/v1/runs', { machine, action: 'start', run, product, quantity: 1000, ts });
    }
    const view = (cmp) => `${base}/#analysis?${new URLSearchParams({ from, to: new Date().toISOString(), nodes: line.path, by: 'hour', cmp })}`;
    await page.goto(view('shift'));
    await page.waitForSelector('#chart-compare-by tr[data-item]');
    await page.waitForSelector('#chart-compare-by .uplot canvas');
    assert.match(await page.getAttribute('#chart-compare-by .uplot canvas', 'aria-label'), /side by side/);
    assert.ok((await page.$$eval('#chart-compare-by tr[data-item]', (rs) => rs.length)) >= 1);
    await exportsOf('chart-compare-by');
    await shoot(page, '10-compare-shift');
    await page.selectOption('select[name=cmp]', 'run');
    await page.click('#analysis-form button[type=submit]');
    // The previous comparison's rows stay until the new one is fetched: wait for the runs' own rows
    // (labelled `machine · run (product)`).
    const rowsOf = () => page.$$eval('#chart-compare-by tr[data-item]', (rs) => rs.map((r) => r.dataset.item));
    await page.waitForFunction(() => location.hash.includes('cmp=run') &&
      [...document.querySelectorAll('#chart-compare-by tr[data-item]')].some((r) => r.dataset.item.includes(' · WO-')));
    const runs = await rowsOf();
    assert.ok(runs.some((r) => r.includes('WO-1 (p-still)')) && runs.some((r) => r.includes('WO-2 (p-sparkling)')), 'runs: ' + runs);
    await page.goto(view('product'));
    await page.waitForFunction(() => location.hash.includes('cmp=product') &&
      [...document.querySelectorAll('#chart-compare-by tr[data-item]')].some((r) => r.dataset.item.startsWith('p-')));
    const products = await rowsOf();
    assert.ok(products.includes('p-still') && products.includes('p-sparkling'), 'products: ' + products);
    await exportsOf('chart-compare-by');
    state.expected.add('by=crew').add('400');
    await page.goto(view('crew'));
    await page.waitForFunction(() => /rotation/.test(document.querySelector('#chart-compare-by [data-error]')?.textContent || ''));
    state.expected.clear();
  });
  await step('sources: the stopped edge\'s source shows silent once 5 minutes of the server\'s clock passed since its last event', async () => {
    // The edge is frozen (above); the demo's clock runs ten times as fast, so its 5 minutes pass in
    // about 30 s. Each reading's status must agree with the page's server clock at that reading.
    const last = Date.parse((await sourceNow(edgeId)).last_seen);
    const status = `#admin-sources tr[data-src="${edgeId}"] td:nth-child(3)`;
    await page.goto(base + '/#admin');
    await page.waitForSelector('#admin-sources[data-loaded]');
    const seen = [];
    for (const until = Date.now() + 120e3; Date.now() < until && !seen.some(([, t]) => t === 'silent');) {
      await page.evaluate(() => adminLoad('sources'));
      await page.waitForSelector(status);
      const [age, cls, text] = await page.evaluate((sel) => [serverNow(), document.querySelector(sel).className, document.querySelector(sel).textContent], status);
      seen.push([(age - last) / 1000, text]);
      // (the card was drawn a moment before this reading: 15 s of the server's clock either side are left open)
      if (Math.abs(age - last - 5 * 60000) > 15000)
        assert.deepEqual([cls, text], age - last >= 5 * 60000 ? ['src-silent', 'silent'] : ['src-online', 'sending'], `${(age - last) / 1000} s after the last event`);
      await page.waitForTimeout(1000);
    }
    assert.ok(seen.some(([, t]) => t === 'silent'), 'never silent: ' + JSON.stringify(seen));
  });
});
process.exit(failed ? 1 : 0);
