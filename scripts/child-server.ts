// Servers the end-to-end tests run as child processes (the API server, `next start`). Each one
// listens on port 0 and the helper reads the port it got from the server's own output: a port
// picked beforehand and released could be taken by another process (or by the server's own
// embedded database) before the child binds it.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

export type ChildServer = {
  /** Base URL the server printed, e.g. http://127.0.0.1:41234. */
  url: string;
  pid: number;
  /** Everything the child wrote to stdout and stderr so far. */
  logs: () => string;
  /** SIGTERM, then SIGKILL after `killAfterMs`; resolves once the child has exited. */
  stop: () => Promise<void>;
};

export type ChildServerOptions = {
  command: string;
  args: string[];
  spawn: Omit<SpawnOptions, 'stdio'>;
  /** Matched against the accumulated output; the first capture group (that matched) is the URL. */
  urlPattern: RegExp;
  /** Path fetched until it answers 2xx before the server counts as up (e.g. /readyz). */
  readyPath?: string;
  timeoutMs: number;
  name: string;
  killAfterMs?: number;
};

/** The server's `listening` log line (pino JSON) carries its URL; fields in either order. */
export const API_LISTENING = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"listening"|"msg":"listening"[^\n]*"url":"(http:\/\/127\.0\.0\.1:\d+)"/;

export async function stopChild(child: ChildProcess, killAfterMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), killAfterMs);
  await gone;
  clearTimeout(timer);
}

export async function startChildServer(opts: ChildServerOptions): Promise<ChildServer> {
  const child = spawn(opts.command, opts.args, { ...opts.spawn, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = () => stopChild(child, opts.killAfterMs);
  const deadline = Date.now() + opts.timeoutMs;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${opts.name} printed no URL within ${opts.timeoutMs} ms:\n${output}`)), opts.timeoutMs);
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = opts.urlPattern.exec(output);
        const found = m?.slice(1).find((g) => g !== undefined);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${opts.name} exited (${code ?? signal}):\n${output}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    if (opts.readyPath) await waitUntilAnswers(`${url}${opts.readyPath}`, deadline, child, () => output, opts.name);
    return { url, pid: child.pid!, logs: () => output, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitUntilAnswers(url: string, deadline: number, child: ChildProcess, output: () => string, name: string): Promise<void> {
  while (child.exitCode === null && child.signalCode === null) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // listening, not answering yet
    }
    if (Date.now() > deadline) throw new Error(`${name}: ${url} did not answer in time:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
}
