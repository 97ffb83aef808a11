// What the SDK's browser tests need around a page: the test entry bundled for the browser,
// a 127.0.0.1 server that serves it (and passes /api to a real API server, so the page talks
// to one origin only), the API server itself run from source, and headless Chromium.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_LISTENING, startChildServer } from '../../../scripts/child-server.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');

// Chromium lookup and launch are shared with the web app's browser tests.
export { browserAvailability as chromiumAvailability, launchBrowser, type LaunchedBrowser } from '../../../scripts/browser.js';

/** Bundles `entry` (TypeScript, workspace packages from source) into one ES module for the browser. */
export async function bundleForBrowser(entry: string): Promise<{ dir: string; cleanup(): void }> {
  const { build } = await import('vite');
  const dir = mkdtempSync(join(tmpdir(), 'qpc-sdk-bundle-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    root: ROOT,
    publicDir: false,
    resolve: { conditions: ['source', 'browser', 'module', 'import', 'default'] },
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      outDir: dir,
      emptyOutDir: true,
      minify: false,
      target: 'esnext',
      copyPublicDir: false,
      lib: { entry, formats: ['es'], fileName: () => 'entry.js' },
    },
  });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type PageServer = { url: string; close(): Promise<void> };

const PAGE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>qpc-test</title><script type="module" src="/entry.js"></script></head><body></body></html>';

/**
 * Serves the page and the bundle from `dir` on 127.0.0.1; with `api`, requests under /api/
 * go to that server unchanged (same origin for the page, as behind a reverse proxy).
 */
export async function startPageServer(dir: string, api?: string): Promise<PageServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (api && path.startsWith('/api/')) {
      const target = new URL(req.url ?? '/', api);
      const upstream = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('upstream failed');
      });
      req.pipe(upstream);
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PAGE);
      return;
    }
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir + '/') || !path.endsWith('.js')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export type ApiServer = { url: string; stop(): Promise<void> };

/**
 * With TEST_DATABASE_URL set (the suite's PostgreSQL run), a new empty database on that server
 * for the API server to migrate, dropped again when it stops; otherwise none (the server then
 * runs its embedded database).
 */
async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const given = process.env.TEST_DATABASE_URL?.trim();
  if (!given) return undefined;
  const { default: pg } = await import('pg');
  const name = `qpc_sdk_browser_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: given });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(given);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: given });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * The real API server (apps/server) from source, as its own process on 127.0.0.1 with an
 * embedded database in a fresh data directory. A separate process, not an import: the SDK
 * library does not depend on the application, it talks to it over HTTP like any client.
 */
export async function startApiServer(timeoutMs = 150_000): Promise<ApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'qpc-sdk-api-'));
  const database = await freshPostgresDatabase();
  const cleanup = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  };
  try {
    const server = await startChildServer({
      name: 'API server',
      command: process.execPath,
      args: ['--conditions=source', '--import', '@swc-node/register/esm-register', join(ROOT, 'apps/server/src/main.ts')],
      spawn: {
        cwd: ROOT,
        env: {
          ...process.env,
          SWC_NODE_PROJECT: join(ROOT, 'apps/server/tsconfig.json'),
          NODE_ENV: 'test',
          HOST: '127.0.0.1',
          PORT: '0',
          DATA_DIR: dataDir,
          LOG_LEVEL: 'info',
          ...(database ? { DATABASE_URL: database.url } : {}),
        },
      },
      urlPattern: API_LISTENING,
      timeoutMs,
      killAfterMs: 15_000,
    });
    return {
      url: server.url,
      stop: async () => {
        await server.stop();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
