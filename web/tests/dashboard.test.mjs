// Browser tests of the dashboard in headless Chromium (Debian's), driven by playwright-core,
// against a running `oee serve --demo` (started by run_browser_tests.sh):
// log in, overview with numbers, a live state change, an operator assigns a reason and the Pareto
// shows it, a viewer is refused. Screenshots go to $OEE_SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.OEE_PLAYWRIGHT || 'playwright-core');

const base = process.env.OEE_URL;
const adminToken = process.env.OEE_ADMIN_TOKEN;
const shots = process.env.OEE_SCREENSHOT_DIR || join(tmpdir(), 'oee-screenshots');
mkdirSync(shots, { recursive: true });

async function adminApi(path, body) {
  const r = await fetch(base + path, { method: body ? 'POST' : 'GET',
    headers: { Authorization: 'Bearer ' + adminToken, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok && r.status !== 400) throw new Error(`${path}: ${r.status} ${text}`);
  return text;
}

const step = async (name, fn) => {
  const t0 = Date.now();
  await fn();
  console.log(`ok ${name} (${Date.now() - t0} ms)`);
};

await adminApi('/api/v1/users', { name: 'olga', password: 'operator-password', role: 'operator' });
await adminApi('/api/v1/users', { name: 'vik', password: 'viewer-password', role: 'viewer' });

const profile = mkdtempSync(join(tmpdir(), 'oee-chromium-'));
// A fresh profile per run (Playwright passes it as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => { console.error('page error:', e.message); failed = true; });

  const login = async (user, password) => {
    await page.goto(base + '/');
    await page.fill('input[name=user]', user);
    await page.fill('input[name=password]', password);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('.tile[data-machine]');
  };

  await step('a wrong password is refused', async () => {
    await page.goto(base + '/');
    await page.fill('input[name=user]', 'olga');
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('wrong user name or password'));
  });

  await step('log in and see the overview with numbers', async () => {
    await login('olga', 'operator-password');
    await page.waitForSelector('#live.on');
    // Every machine tile gets its OEE of the current shift over the WebSocket.
    await page.waitForFunction(() => [...document.querySelectorAll('.tile[data-machine] [data-oee]')].some((e) => /\d+\.\d%/.test(e.textContent)));
    const tiles = await page.$$eval('.tile[data-machine]', (els) => els.length);
    assert.equal(tiles, 12);
    await page.screenshot({ path: join(shots, '1-overview.png'), fullPage: true });
  });

  await step("watch a machine's state change live", async () => {
    const before = await page.$$eval('.tile[data-machine]', (els) => els.map((e) => e.className + '|' + e.querySelector('[data-state]').textContent));
    await page.waitForFunction((b) => {
      const now = [...document.querySelectorAll('.tile[data-machine]')].map((e) => e.className + '|' + e.querySelector('[data-state]').textContent);
      return now.some((v, i) => v !== b[i]);
    }, before, { timeout: 240000 });  // a break of the demo's (30 min, all machines planned_stop) lasts 180 s at --speed 10
    await page.screenshot({ path: join(shots, '2-state-changed.png'), fullPage: true });
  });

  const reason = 'pw-reason-' + Date.now();
  await step('assign a reason as operator and see the Pareto change', async () => {
    // The machine with the most stops in the window.
    const machine = await page.$$eval('.tile[data-machine]', (els) => els[0].dataset.machine);
    await page.goto(base + '/#machine=' + encodeURIComponent(machine));
    await page.waitForSelector('#stops table');
    // The last 24 h always hold stops, even minutes after a shift change.
    await page.selectOption('#window', 'day');
    await page.waitForSelector('#stops[data-window="day"] table');
    const rows = await page.$$('#stops tbody tr');
    let assigned = false;
    for (const row of rows) {
      const kind = await row.$eval('td:nth-child(3)', (e) => e.textContent);
      // Only a stop inside planned production time is a loss the Pareto shows (not one in a break).
      const plannedS = Number(await row.getAttribute('data-planned-s'));
      if (kind === 'planned_stop' || !(plannedS > 0)) continue;
      await row.$eval('input.reason', (e, r) => { e.value = r; }, reason);
      await (await row.$('button.assign')).click();
      await page.waitForFunction((r) => document.querySelector('#pareto').textContent.includes(r), reason);
      assigned = true;
      break;
    }
    assert.ok(assigned, 'no unplanned stop on ' + machine);
    await page.screenshot({ path: join(shots, '3-reason-assigned.png'), fullPage: true });
  });

  await step('a viewer is refused', async () => {
    await page.click('#logout');
    await login('vik', 'viewer-password');
    const machine = await page.$$eval('.tile[data-machine]', (els) => els[0].dataset.machine);
    await page.goto(base + '/#machine=' + encodeURIComponent(machine));
    await page.waitForSelector('#stops tbody tr button.assign');
    const row = (await page.$$('#stops tbody tr'))[0];
    await row.$eval('input.reason', (e) => { e.value = 'viewer-reason'; });
    await (await row.$('button.assign')).click();
    await page.waitForFunction(() => document.querySelector('#stop-error').textContent.includes("needs the role 'operator'"));
    assert.ok(!(await page.textContent('#pareto')).includes('viewer-reason'));
    await page.screenshot({ path: join(shots, '4-viewer-refused.png'), fullPage: true });
  });

  await step('the printable shift report', async () => {
    await page.goto(base + '/#report');
    await page.waitForSelector('h1:has-text("Shift report")');
    await page.screenshot({ path: join(shots, '5-shift-report.png'), fullPage: true });
  });
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log('screenshots in ' + shots);
process.exit(failed ? 1 : 0);
