// Starts the built web app (`next start`) as a child process for end-to-end tests.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildServer, startChildServer } from '../../../scripts/child-server';

export { stopChild } from '../../../scripts/child-server';

export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const NEXT_BIN = join(WEB_DIR, '../../node_modules/next/dist/bin/next');

/** A port that was free a moment ago on 127.0.0.1 (for a URL nothing is meant to answer on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export type WebServer = ChildServer;

/**
 * Runs `next start` on a port of its own choosing (port 0) and resolves once /healthz answers
 * (or rejects if it exits). `dir` is the app folder holding `.next` (another build, e.g. a
 * baseline for a measurement).
 */
export async function startWeb(env: Record<string, string>, timeoutMs = 60_000, dir = WEB_DIR): Promise<WebServer> {
  if (!existsSync(join(dir, '.next', 'BUILD_ID'))) {
    throw new Error('apps/web is not built: run `npm run build -w @qpc/web` before the e2e tests');
  }
  return startChildServer({
    name: 'next start',
    command: process.execPath,
    args: [NEXT_BIN, 'start', '-H', '127.0.0.1', '-p', '0'],
    spawn: { cwd: dir, env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', ...env } },
    urlPattern: /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/,
    readyPath: '/healthz',
    timeoutMs,
  });
}
