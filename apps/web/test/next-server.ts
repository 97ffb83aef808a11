// Starts the built web app (`next start`) as a child process for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const NEXT_BIN = join(WEB_DIR, '../../node_modules/next/dist/bin/next');

/** A port that was free a moment ago on 127.0.0.1. */
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

export type WebServer = { url: string; pid: number; logs: () => string; stop: () => Promise<void> };

/**
 * Runs `next start` on a free port and resolves once /healthz answers (or rejects if it exits).
 * `dir` is the app folder holding `.next` (another build, e.g. a baseline for a measurement).
 */
export async function startWeb(env: Record<string, string>, timeoutMs = 60_000, dir = WEB_DIR): Promise<WebServer> {
  if (!existsSync(join(dir, '.next', 'BUILD_ID'))) {
    throw new Error('apps/web is not built: run `npm run build -w @qpc/web` before the e2e tests');
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`next start exited (${code ?? signal}):\n${output}`))),
  );
  exited.catch(() => undefined);

  const ready = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      try {
        const res = await fetch(`${url}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    throw new Error(`next start did not answer /healthz within ${timeoutMs} ms:\n${output}`);
  })();

  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { url, pid: child.pid!, logs: () => output, stop: () => stopChild(child) };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}
