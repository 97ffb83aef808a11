import { mkdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailability, launchBrowser, type LaunchedBrowser } from './browser';
import { freePort, startWeb, WEB_DIR, type WebServer } from './next-server';

const browser = browserAvailability();
const SCREENSHOTS = join(WEB_DIR, '../../.test-reports/web');

type Seen = { method: string; url: string; headers: IncomingHttpHeaders; body: string };

/** A stand-in API server on 127.0.0.1 that records what reached it and echoes it back. */
function startEchoApi(port: number): Promise<{ server: Server; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      if (req.url?.startsWith('/api/v1/conflict')) {
        res.writeHead(409, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'urn:qpc:problem:fapp.stale_sequence', title: 'Conflict', status: 409, code: 'fapp.stale_sequence' }));
        return;
      }
      res.writeHead(201, {
        'content-type': 'application/json',
        'x-request-id': 'echo-1',
        'set-cookie': 'tracker=1; Path=/',
        connection: 'keep-alive',
      });
      res.end(JSON.stringify({ method: entry.method, path: entry.url, body }));
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, seen })));
}

describe('web app (next start)', () => {
  let web: WebServer;
  let apiPort: number;

  beforeAll(async () => {
    // Nothing listens on apiPort until a test starts the stand-in API there.
    apiPort = await freePort();
    web = await startWeb({ QPC_API_URL: `http://127.0.0.1:${apiPort}` });
  });

  afterAll(async () => {
    await web?.stop();
  });

  describe('without a browser', () => {
    it('sends / to the German site and renders it on the server (no JavaScript needed)', async () => {
      const redirect = await fetch(`${web.url}/`, { redirect: 'manual' });
      expect(redirect.status).toBe(307);
      expect(redirect.headers.get('location')).toMatch(/\/de$/);

      const res = await fetch(`${web.url}/de`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<html lang="de">');
      expect(html).toContain('Freie Therapieplätze finden');
      expect(html).toContain('0800 111 0 111');
      expect(res.headers.get('set-cookie')).toBeNull();
    });

    it('sets strict security headers: CSP with this origin only, no referrer, no powered-by', async () => {
      const res = await fetch(`${web.url}/en`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/https?:|\*|unsafe-inline|unsafe-eval/);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('permissions-policy')).toContain('camera=()');
      expect(res.headers.get('x-powered-by')).toBeNull();
    });

    it('answers unknown paths with 404', async () => {
      for (const path of ['/fr', '/de/gibt-es-nicht', '/en/no/such/page']) {
        expect((await fetch(`${web.url}${path}`)).status, path).toBe(404);
      }
    });

    it('answers /healthz', async () => {
      const res = await fetch(`${web.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('answers 502 problem+json when the API server is unreachable', async () => {
      const res = await fetch(`${web.url}/api/v1/fapp/announces?plz=10`);
      expect(res.status).toBe(502);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 502, code: 'web.upstream_unavailable', title: expect.any(String), type: expect.any(String) });

      const post = await fetch(`${web.url}/api/v1/fapp/reservations`, { method: 'POST', body: 'x'.repeat(200_000), headers: { 'content-type': 'application/octet-stream' } });
      expect(post.status).toBe(502);
      expect(await post.json()).toMatchObject({ code: 'web.upstream_unavailable' });
      expect(web.logs()).not.toMatch(/unhandled/i);
      // The unread upload was drained, so the kept-alive connection still serves the next request.
      expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
    });

    it('passes requests to the API server without anything that identifies the patient', async () => {
      const { server, seen } = await startEchoApi(apiPort);
      try {
        const res = await fetch(`${web.url}/api/v1/fapp/reservations?x=1`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer session-token',
            cookie: 'session=abc',
            'user-agent': 'PatientBrowser/1.0',
            'x-forwarded-for': '203.0.113.9',
            'x-real-ip': '203.0.113.9',
            referer: 'http://127.0.0.1/de/suche',
            'accept-language': 'de-DE',
          },
          body: JSON.stringify({ sealed: 'AAEC' }),
        });
        expect(res.status).toBe(201);
        expect(await res.json()).toEqual({ method: 'POST', path: '/api/v1/fapp/reservations?x=1', body: '{"sealed":"AAEC"}' });
        expect(res.headers.get('x-request-id')).toBe('echo-1');
        expect(res.headers.get('set-cookie')).toBeNull();

        expect(seen).toHaveLength(1);
        const h = seen[0]!.headers;
        expect(h['content-type']).toBe('application/json');
        expect(h['authorization']).toBe('Bearer session-token');
        for (const name of ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'forwarded', 'cookie', 'user-agent', 'referer', 'accept-language']) {
          expect(h[name], name).toBeUndefined();
        }

        for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
          const r = await fetch(`${web.url}/api/v1/echo/${method.toLowerCase()}`, {
            method,
            ...(method === 'GET' || method === 'DELETE' ? {} : { body: 'x', headers: { 'content-type': 'text/plain' } }),
          });
          expect(r.status, method).toBe(201);
          expect(await r.json()).toMatchObject({ method, path: `/api/v1/echo/${method.toLowerCase()}` });
        }

        const conflict = await fetch(`${web.url}/api/v1/conflict`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
        expect(conflict.status).toBe(409);
        expect(conflict.headers.get('content-type')).toBe('application/problem+json');
        expect(await conflict.json()).toMatchObject({ code: 'fapp.stale_sequence', status: 409 });
      } finally {
        await new Promise((r) => server.close(r));
      }
    });
  });

  it('has a Chromium for the browser tests whenever CI=true requires one', () => {
    // Outside CI a missing browser skips the Chromium block below (loudly); under CI it fails here.
    if (browser.kind === 'required') expect.fail(browser.reason);
    expect(['available', 'skip']).toContain(browser.kind);
  });

  describe.skipIf(browser.kind !== 'available')(`in Chromium${browser.kind === 'available' ? '' : ` (skipped: ${browser.reason})`}`, () => {
    let launched: LaunchedBrowser;
    let page: Page;
    const requests: string[] = [];
    const consoleErrors: string[] = [];

    beforeAll(async () => {
      launched = await launchBrowser(browser.kind === 'available' ? browser.path : '');
      launched.context.on('request', (req) => requests.push(req.url()));
      page = launched.context.pages()[0] ?? (await launched.context.newPage());
      page.on('console', (msg: ConsoleMessage) => {
        if (msg.type() === 'error') consoleErrors.push(`${msg.text()} @ ${msg.location().url}`);
      });
      page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
      mkdirSync(SCREENSHOTS, { recursive: true });
    });

    afterAll(async () => {
      await launched?.close();
    });

    it('renders the German landing page first', async () => {
      await page.goto(`${web.url}/`, { waitUntil: 'networkidle' });
      expect(new URL(page.url()).pathname).toBe('/de');
      expect(await page.getAttribute('html', 'lang')).toBe('de');
      await expect.poll(() => page.locator('h1').innerText()).toContain('Freie Therapieplätze finden');
      // Next's runtime ran, so the CSP nonce reached its scripts.
      expect(await page.evaluate(() => typeof (window as { next?: { version?: string } }).next?.version)).toBe('string');
      expect(await page.getByRole('heading', { level: 2, name: 'Für Patientinnen und Patienten' }).count()).toBe(1);
      expect(await page.getByRole('link', { name: '0800 111 0 111' }).getAttribute('href')).toBe('tel:08001110111');
      expect(await page.getByRole('link', { name: '112', exact: true }).count()).toBe(1);
      await page.screenshot({ path: join(SCREENSHOTS, 'landing-de.png'), fullPage: true });
    });

    it('switches to English', async () => {
      await page.getByRole('navigation', { name: 'Sprache' }).getByRole('link', { name: 'English' }).click();
      await page.waitForURL(/\/en$/);
      await page.waitForLoadState('networkidle');
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await page.locator('h1').innerText()).toContain('Find a free therapy slot');
      expect(await page.getByRole('heading', { level: 2, name: 'For psychotherapists' }).count()).toBe(1);
      await page.screenshot({ path: join(SCREENSHOTS, 'landing-en.png'), fullPage: true });

      await page.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: 'Deutsch' }).click();
      await page.waitForURL(/\/de$/);
      expect(await page.getAttribute('html', 'lang')).toBe('de');
    });

    it('shows a 404 page in the language of the address', async () => {
      // A page of its own: the 404 status itself is logged as a console error, by design.
      const notFoundPage = await launched.context.newPage();
      try {
        for (const [path, lang, title] of [
          ['/en/no/such/page', 'en', 'This page does not exist'],
          ['/de/gibt-es-nicht', 'de', 'Diese Seite gibt es nicht'],
        ] as const) {
          const res = await notFoundPage.goto(`${web.url}${path}`, { waitUntil: 'networkidle' });
          expect(res?.status(), path).toBe(404);
          await expect.poll(() => notFoundPage.locator('h1').innerText()).toBe(title);
          expect(await notFoundPage.getAttribute('html', 'lang'), path).toBe(lang);
        }
      } finally {
        await notFoundPage.close();
      }
    });

    it('makes requests to its own origin only', () => {
      expect(requests.length).toBeGreaterThan(3);
      const origins = new Set(requests.map((u) => new URL(u).origin));
      expect([...origins]).toEqual([web.url]);
    });

    it('logs no console errors (CSP violations included)', () => {
      expect(consoleErrors).toEqual([]);
    });
  });
});
