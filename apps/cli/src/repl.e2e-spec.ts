import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The seed's two-terminal demo with real pseudo-terminals: tmux on a private socket runs
// `qpc repl` processes (from source) against a real server on 127.0.0.1, and the test reads
// their screens.

interface TestServer {
  app: { listen(o: { port: number; host: string }): Promise<unknown>; getHttpServer(): { address(): unknown } };
  close(): Promise<void>;
}
// Loaded at run time so the CLI's type check does not pull in the server's sources.
const serverTestApp = '../../server/test/app.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const socket = `qpc-cli-e2e-${process.pid}`;
let server: TestServer;
let url: string;
let data: string;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
/** The command the README shows as `qpc repl -u NAME -p PASSWORD`, run from source. */
const qpc = (args: string) =>
  `cd ${root} && exec env NO_COLOR=1 SWC_NODE_PROJECT=apps/cli/tsconfig.json node --conditions=source --import @swc-node/register/esm-register apps/cli/src/main.ts ${args} --server ${url} --data-dir ${data}`;
const start = (name: string, password: string) => tmux('new-window', '-d', '-t', 'demo', '-n', name, qpc(`repl -u ${name} -p ${password}`));
const screen = (name: string) => tmux('capture-pane', '-p', '-J', '-S', '-3000', '-t', `demo:${name}`);
const type = (name: string, line: string) => {
  tmux('send-keys', '-t', `demo:${name}`, '-l', line);
  tmux('send-keys', '-t', `demo:${name}`, 'Enter');
};
const shows = (name: string, pattern: RegExp) => expect.poll(() => screen(name), { timeout: 30_000 }).toMatch(pattern);
const windows = () => tmux('list-windows', '-t', 'demo', '-F', '#{window_name}').split('\n').filter(Boolean);
const quit = async (name: string) => {
  type(name, '/quit');
  await expect.poll(windows, { timeout: 10_000 }).not.toContain(name);
};
/** Logged in and the push connection is up (its backlog delivered). */
const ready = (name: string) => shows(name, /(registered|logged in as) \w+ on [^]*\* connected to /);

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'qpc-cli-e2e-'));
  const { createTestApp } = (await import(serverTestApp)) as { createTestApp: () => Promise<TestServer> };
  server = await createTestApp();
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(server.app.getHttpServer().address() as AddressInfo).port}`;
  // A window that stays, so the tmux server lives while REPLs come and go.
  tmux('new-session', '-d', '-s', 'demo', '-x', '200', '-y', '50', '-n', 'base', 'cat');
});

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  await server?.close();
  rmSync(data, { recursive: true, force: true });
});

describe('qpc repl in two terminals', () => {
  it('Alice /dm bob + Hello, Bob!; Bob sees [alice] Hello, Bob! and replies; both restart with history; Bob offline gets it when back', async () => {
    start('alice', 'secretA');
    start('bob', 'secretB');
    await ready('alice');
    await ready('bob');

    type('alice', '/dm bob');
    await shows('alice', /conversation with bob/);
    type('alice', 'Hello, Bob!');
    await shows('bob', /^\[alice\] Hello, Bob!$/m);
    type('bob', 'Hi Alice!');
    await shows('alice', /^\[bob\] Hi Alice!$/m);

    // Bad input gets help, not a crash.
    type('bob', '/hepl');
    await shows('bob', /unknown command \/hepl — did you mean \/help\?/);
    type('bob', '/dm zed');
    await shows('bob', /no user named "zed"/);

    await quit('alice');
    await quit('bob');

    // Alice comes back alone: her history is there; Bob is offline while she writes.
    start('alice', 'secretA');
    await ready('alice');
    type('alice', '/history');
    await shows('alice', /\d\d:\d\d \[alice\] Hello, Bob!\n\d\d:\d\d \[bob\] Hi Alice!/);
    type('alice', 'Are you there?');
    await expect.poll(() => screen('alice')).toMatch(/alice@bob> Are you there\?\n/);

    start('bob', 'secretB');
    await shows('bob', /^\[alice\] Are you there\?$/m);
    type('bob', '/history 3');
    await shows('bob', /\[alice\] Hello, Bob!\n\d\d:\d\d \[bob\] Hi Alice!\n\d\d:\d\d \[alice\] Are you there\?/);

    // The history file keeps commands for the arrow keys, never message text.
    const history = join(data, 'alice', 'repl_history');
    expect(readFileSync(history, 'utf8')).toBe('/dm bob\n/quit\n/history\n');
    expect(statSync(history).mode & 0o777).toBe(0o600);
  });

  it('a group of three with one /remove: the removed member no longer receives', async () => {
    start('carol', 'secretC');
    await ready('carol');
    type('alice', '/create-group team');
    await shows('alice', /created #team/);
    type('alice', '/invite bob');
    await shows('alice', /bob added to #team/);
    type('alice', '/invite carol');
    await shows('alice', /carol added to #team/);
    type('alice', 'hi team');
    await shows('bob', /#team \[alice\] hi team/);
    await shows('carol', /^\[alice\] hi team$/m);
    type('carol', 'hi from carol');
    await shows('bob', /#team \[carol\] hi from carol/);

    type('alice', '/remove carol');
    await shows('carol', /you were removed from #team/);
    type('alice', 'secret plans');
    await shows('bob', /#team \[alice\] secret plans/);
    // A later message to Carol is queued after anything the group would have sent her.
    type('alice', '/dm carol');
    await shows('alice', /conversation with carol/);
    type('alice', 'marker for carol');
    await shows('carol', /\[alice\] marker for carol/);
    expect(screen('carol')).not.toContain('secret plans');
    type('carol', 'still there?');
    await shows('carol', /you are no longer a member of #team/);
  });
});
