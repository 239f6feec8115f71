// Browser tests of the administration page (#admin) and of the comparisons by shift, crew, product
// and run in #analysis, in headless Chromium against the running `oee serve --demo` of
// run_browser_tests.sh (its plant has an alert rule that fires on any unplanned stop). Every button
// of the page is clicked; no console error, CSP violation or failed request but those provoked on
// purpose. Screenshots at desktop, tablet and TV sizes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { adminApi, base, shoot, step, withBrowser } from './browser_harness.mjs';

await adminApi('/api/v1/users', { name: 'ada', password: 'admin-password', role: 'admin' });
await adminApi('/api/v1/users', { name: 'vera', password: 'viewer-password', role: 'viewer' });

const failed = await withBrowser(async (browser, watch, state) => {
  const page = await browser.newPage();
  page.setDefaultTimeout(30000);
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
    // The demo's events come from sources with sequence numbers; no edge reports over MQTT here.
    assert.ok(await page.$$eval('#admin-sources tr[data-src]', (rs) => rs.length) >= 1, 'no source listed');
    assert.match(await page.textContent('#admin-sources'), /No edge has reported/);
    assert.match(await page.textContent('#admin-deadLetters'), /\d+ in all/);
    await shoot(page, '9-admin');
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
    // Bounded by time, not by reloads: on a loaded machine the demo's first stop can take a while.
    for (const until = Date.now() + 120e3; !(await page.$('#admin-alerts tr[data-alert]:has(.alert-ack)')) && Date.now() < until;) {
      const at = await loadedAt('alerts');
      await page.evaluate(() => adminLoad('alerts'));
      await cardLoaded('alerts', at);
      await page.waitForTimeout(1000);
    }
    const row = await page.$('#admin-alerts tr[data-alert]:has(.alert-ack)');
    assert.ok(row, 'no firing alert to acknowledge within 120 s');
    const id = await row.getAttribute('data-alert');
    const at = await loadedAt('alerts');
    await (await row.$('.alert-ack')).click();
    await cardLoaded('alerts', at);
    // Acknowledged by the session's user (as the audit chain names users: its pseudonym).
    assert.match(await page.$eval(`#admin-alerts tr[data-alert="${id}"] td:nth-child(7)`, (e) => e.textContent), /^u:[0-9a-f]{16}$/);
    assert.equal(await page.$(`#admin-alerts tr[data-alert="${id}"] .alert-ack`), null);
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
    assert.ok((await page.$$eval('#chart-compare-by tr[data-item]', (rs) => rs.length)) >= 1);
    await exportsOf('chart-compare-by');
    await shoot(page, '10-compare-shift');
    await page.selectOption('select[name=cmp]', 'run');
    await page.click('#analysis-form button[type=submit]');
    // The previous comparison's rows stay until the new one is fetched: wait for the runs' own rows.
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
});
process.exit(failed ? 1 : 0);
