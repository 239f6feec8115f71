// Measures the overview of a running server (OEE_ADMIN_TOKEN) in headless Chromium: the time from
// navigation until all MACHINES tiles are drawn, and the JS heap after a garbage collection, beside an
// empty page in the same browser. Prints BENCH rows (bench/README.md). usage: web_first_paint.mjs URL MACHINES
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.OEE_PLAYWRIGHT || 'playwright-core');
const [base, machines] = [process.argv[2], Number(process.argv[3])];
const profile = mkdtempSync(join(tmpdir(), 'oee-bench-chromium-'));
const browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true,
  viewport: { width: 1400, height: 1000 }, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });

// Median of three loads: [ms to the condition, heap bytes].
async function measure(url, ready, token) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage();
    if (token) await page.addInitScript((t) => sessionStorage.setItem('oee-token', t), token);
    await page.goto(url, { waitUntil: 'commit' });
    const ms = await (await page.waitForFunction(ready, machines, { timeout: 60000, polling: 'raf' })).jsonValue();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    runs.push([ms, heap]);
    await page.close();
  }
  runs.sort((a, b) => a[0] - b[0]);
  return runs[1];
}

try {
  const empty = await measure('data:text/html,<title>empty</title><p>.</p>', () => document.readyState === 'complete' && performance.now());
  const overview = await measure(base + '/', (n) => document.querySelectorAll('.tile[data-machine]').length === n && performance.now(),
    process.env.OEE_ADMIN_TOKEN);
  const mb = (b) => (b / 1048576).toFixed(1);
  console.log(`BENCH\toverview first paint, ${machines} machines\t${overview[0].toFixed(0)}\tms\tempty page\t${empty[0].toFixed(0)}\tlower\t<= 1000`);
  console.log(`BENCH\toverview JS heap, ${machines} machines\t${mb(overview[1])}\tMB\tempty page\t${mb(empty[1])}\tlower\t<= 50`);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
