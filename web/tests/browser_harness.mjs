// What the browser tests share: headless Chromium (Debian's) through playwright-core, a page watch
// that fails the run on a console error (a CSP violation is one), a page error or a failed request,
// screenshots at desktop, tablet and TV sizes, and the admin API of the server under test.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.OEE_PLAYWRIGHT || 'playwright-core');

export const base = process.env.OEE_URL;
export const adminToken = process.env.OEE_ADMIN_TOKEN;
export const shots = process.env.OEE_SCREENSHOT_DIR || join(tmpdir(), 'oee-screenshots');
// The suite running (admin, dashboard): its failure's screenshots are named after it.
const suite = basename(process.argv[1] || 'browser', '.test.mjs');
mkdirSync(shots, { recursive: true });

// GET (or POST with a body) as the server's admin; a 400 is returned, anything else over 399 throws.
export async function adminApi(path, body) {
  const r = await fetch(base + path, { method: body ? 'POST' : 'GET',
    headers: { Authorization: 'Bearer ' + adminToken, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok && r.status !== 400) throw new Error(`${path}: ${r.status} ${text}`);
  return text;
}

export const step = async (name, fn) => {
  const t0 = Date.now();
  await fn();
  console.log(`ok ${name} (${Date.now() - t0} ms)`);
};

// A fresh profile per run; `run(browser, watch, state)` gets the browser and the page watch; returns
// whether the run failed. `options`: launch options over the desktop defaults (a tablet's viewport, touch).
export async function withBrowser(run, options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'oee-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, Object.assign({
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 1000 }, acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  }, options));
  const state = { failed: false, expected: new Set() };
  // `state.expected` lists the refusals a step provokes on purpose.
  const isExpected = (text) => [...state.expected].some((x) => text.includes(x));
  const watch = (page) => {
    page.on('pageerror', (e) => { console.error('page error:', e.message); state.failed = true; });
    page.on('console', (m) => {
      if (m.type() !== 'error' || isExpected(m.text())) return;
      console.error('console error:', m.text()); state.failed = true;
    });
    page.on('requestfailed', (r) => {
      if (r.failure()?.errorText === 'net::ERR_ABORTED' || r.url().includes('/api/v1/live')) return;
      console.error('request failed:', r.url(), r.failure()?.errorText); state.failed = true;
    });
    page.on('response', (r) => {
      if (r.status() < 400 || isExpected(r.url())) return;
      console.error('failed request:', r.status(), r.url()); state.failed = true;
    });
  };
  try {
    await run(browser, watch, state);
  } catch (e) {
    console.error(e);
    state.failed = true;
    // What the page showed: the screenshots are lost with a CI machine, its log is not.
    for (const p of browser.pages()) console.error('page at failure:', p.url(), JSON.stringify(((await p.evaluate(() => document.querySelector('main')?.innerText).catch(() => '')) || '').slice(0, 800)));
    for (const [i, p] of browser.pages().entries()) await p.screenshot({ path: join(shots, `failure-${suite}-${i}.png`), fullPage: true }).catch(() => {});
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
  return state.failed;
}

export async function shoot(page, name) {
  for (const [size, viewport] of [['desktop', { width: 1400, height: 1000 }], ['tablet', { width: 800, height: 1280 }], ['tv', { width: 1920, height: 1080 }]]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(shots, `${name}-${size}.png`), fullPage: size !== 'tv' });
  }
  await page.setViewportSize({ width: 1400, height: 1000 });
}
