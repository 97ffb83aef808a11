// The whole platform for browser tests: the real API server (embedded PGlite, fresh data
// directory) with demo announces posted through its API, and the built web app in front.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64Url, toHex } from '@qpc/crypto';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { freePort, startWeb, stopChild, WEB_DIR, type WebServer } from './next-server';

const SERVER_MAIN = join(WEB_DIR, '../server/dist/main.js');

export type ApiServer = { url: string; pid: number; logs: () => string; stop: () => Promise<void> };

/** Starts `node apps/server/dist/main.js` and resolves once /readyz answers 200. */
export async function startApiServer(env: Record<string, string>, timeoutMs = 90_000): Promise<ApiServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'qpc-web-e2e-'));
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: { ...process.env, NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`API server exited (${code ?? signal}):\n${output}`))));
  exited.catch(() => undefined);
  const ready = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if ((await fetch(`${url}/readyz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (child.exitCode !== null) return exited;
    throw new Error(`API server not ready within ${timeoutMs} ms:\n${output}`);
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, pid: child.pid!, logs: () => output, stop };
}

export async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export interface Platform {
  api: ApiServer;
  web: WebServer;
  data: DemoDataset;
  powBits: number;
  /** `Name=<hex>` as both the server and the web app read it. */
  authorities: string;
  stop: () => Promise<void>;
}

export async function startPlatform(opts: { therapists?: number; powBits?: number; seed?: string; webEnv?: Record<string, string> } = {}): Promise<Platform> {
  const powBits = opts.powBits ?? 8;
  const data = buildDemoDataset({ therapists: opts.therapists ?? 12, now: Date.now(), seed: opts.seed ?? 'web-e2e' });
  const authorities = `${data.authority.name}=${toHex(data.authority.keys.publicKey)}`;
  const api = await startApiServer({ FAPP_POW_BITS: String(powBits), FAPP_AUTHORITIES: authorities });
  let web: WebServer | undefined;
  try {
    for (const announce of data.announces) {
      const res = await postJson(`${api.url}/api/v1/fapp/announces`, { announce: toBase64Url(announce) });
      if (res.status !== 201) throw new Error(`posting a demo announce failed: ${res.status} ${await res.text()}`);
    }
    web = await startWeb({ QPC_API_URL: api.url, QPC_FAPP_POW_BITS: String(powBits), QPC_FAPP_AUTHORITIES: authorities, ...opts.webEnv });
  } catch (e) {
    await api.stop();
    throw e;
  }
  const started = web;
  return {
    api,
    web: started,
    data,
    powBits,
    authorities,
    stop: async () => {
      await started.stop();
      await api.stop();
    },
  };
}
