// The whole platform for browser tests: the real API server (embedded PGlite, fresh data
// directory) with demo announces posted through its API, and the built web app in front.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64Url, toHex } from '@qpc/crypto';
import { buildDemoDataset, type DemoDataset } from '@qpc/seed';
import { API_LISTENING, type ChildServer, startChildServer } from '../../../scripts/child-server';
import { startWeb, WEB_DIR, type WebServer } from './next-server';

const SERVER_MAIN = join(WEB_DIR, '../server/dist/main.js');

export type ApiServer = ChildServer;

/** Starts `node apps/server/dist/main.js` on a port of its own and resolves once /readyz answers 200. */
export async function startApiServer(env: Record<string, string>, timeoutMs = 90_000): Promise<ApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'qpc-web-e2e-'));
  try {
    const server = await startChildServer({
      name: 'API server',
      command: process.execPath,
      args: [SERVER_MAIN],
      // LOG_LEVEL info: the `listening` line carries the port.
      spawn: { env: { ...process.env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env } },
      urlPattern: API_LISTENING,
      readyPath: '/readyz',
      timeoutMs,
    });
    return {
      ...server,
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
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
