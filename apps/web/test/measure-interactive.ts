// Time to interactive of the search page on a production build (`next build` first):
// the real API server with the demo data, `next start`, headless Chromium with an empty
// cache per run. "Interactive" is the moment the search button is enabled, which happens
// in a React effect after hydration. Prints every run, the median, and the JavaScript the
// page loaded before it was interactive.
//
//   npm run measure:interactive -w @qpc/web [-- runs] [--baseline <app dir with another .next>] [--path /de/praxis]
//
// --path measures another page whose submit button waits for hydration (the portal's sign-in).
//
// With --baseline the same runs go alternately to that build and to this one (same API
// server, same moment), so a loaded machine slows both alike.
import { chromium, type Response } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from './browser';
import { startWeb, type WebServer } from './next-server';
import { startPlatform } from './platform';

const args = process.argv.slice(2);
const baselineAt = args.indexOf('--baseline');
const baselineDir = baselineAt >= 0 ? args.splice(baselineAt, 2)[1] : undefined;
const pathAt = args.indexOf('--path');
const pagePath = pathAt >= 0 ? args.splice(pathAt, 2)[1]! : '/de/suche';
const runs = Number(args[0] ?? 5);
const path = findChromium();
if (!path) throw new Error('no Chromium: install it or set CHROMIUM_PATH');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

type Target = { name: string; web: WebServer; times: number[]; scripts: string[]; bytes: number };

const p = await startPlatform({ therapists: 12, powBits: 8, seed: 'measure-interactive' });
const targets: Target[] = [{ name: 'this build', web: p.web, times: [], scripts: [], bytes: 0 }];
const browser = await chromium.launch({ executablePath: path, headless: true, args: CHROMIUM_ARGS });
try {
  if (baselineDir) {
    const web = await startWeb({ QPC_API_URL: p.api.url, QPC_FAPP_POW_BITS: String(p.powBits), QPC_FAPP_AUTHORITIES: p.authorities }, 60_000, baselineDir);
    targets.unshift({ name: 'baseline', web, times: [], scripts: [], bytes: 0 });
  }
  // One warm-up run each (the first request to a fresh `next start` loads the route's code).
  for (let i = -1; i < runs; i++) {
    for (const target of targets) {
      const context = await browser.newContext({ locale: 'de-DE', timezoneId: 'Europe/Berlin', viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const scripts: Response[] = [];
      page.on('response', (r) => {
        if (r.request().resourceType() === 'script') scripts.push(r);
      });
      const t0 = performance.now();
      await page.goto(`${target.web.url}${pagePath}`);
      await page.locator('button[type="submit"]:enabled').waitFor();
      const ms = performance.now() - t0;
      const before = scripts.slice();
      if (i >= 0) {
        target.times.push(ms);
        const sizes = await Promise.all(before.map(async (r) => (await r.body().catch(() => Buffer.alloc(0))).length));
        target.bytes = sizes.reduce((a, b) => a + b, 0);
        target.scripts = before.map((r, k) => `${new URL(r.url()).pathname} ${Math.round(sizes[k]! / 1024)} KiB`);
      }
      await context.close();
    }
  }
  for (const t of targets) {
    if (process.env.VERBOSE) console.log(`${t.name}:\n  ${t.scripts.join('\n  ')}`);
    console.log(`${t.name}: ${pagePath} interactive after ${t.times.map((x) => Math.round(x)).join(', ')} ms; median ${Math.round(median(t.times))} ms over ${runs} runs; ${t.scripts.length} scripts, ${Math.round(t.bytes / 1024)} KiB of JavaScript (uncompressed) before interactive`);
  }
  if (targets.length === 2) console.log(`median ratio this build / baseline: ${(median(targets[1]!.times) / median(targets[0]!.times)).toFixed(2)}`);
} finally {
  await browser.close();
  if (baselineDir) await targets[0]!.web.stop();
  await p.stop();
}
