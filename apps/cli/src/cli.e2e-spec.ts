import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { buildDemoDataset, DEMO_AUTHORITY_NAME } from '@qpc/seed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from './exit.js';
import { run } from './run.js';

// The non-interactive commands and the REPL's outage handling, in process, against a real
// server reached through a TCP relay the test can cut and restore ("server down").

interface TestServer {
  app: { listen(o: { port: number; host: string }): Promise<unknown>; getHttpServer(): { address(): unknown } };
  close(): Promise<void>;
}
const serverTestApp = '../../server/test/app.js';

let server: TestServer;
let target: number;
let relay: Server;
let relayPort: number;
const sockets = new Set<Socket>();
let url: string;
let direct: string;
let data: string;
const dataset = buildDemoDataset({ therapists: 6, now: Date.now(), seed: 'cli-e2e', verifiedShare: 1 });

function listenRelay(port = 0): Promise<number> {
  relay = createServer((client) => {
    const upstream = tcpConnect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((r) => relay.listen(port, '127.0.0.1', () => r((relay.address() as AddressInfo).port)));
}
function cutRelay(): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((r) => relay.close(() => r()));
}

async function qpc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const extra = argv[0] === 'fapp' ? ['--server', url] : ['--server', url, '--data-dir', data];
  const code = await run([...argv, ...extra], { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {} });
  return { code, out, err };
}

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'qpc-cli-'));
  const { createTestApp } = (await import(serverTestApp)) as { createTestApp: (env: Record<string, string>) => Promise<TestServer> };
  server = await createTestApp({ FAPP_AUTHORITIES: `${DEMO_AUTHORITY_NAME}=${Buffer.from(dataset.authority.keys.publicKey).toString('hex')}` });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  target = (server.app.getHttpServer().address() as AddressInfo).port;
  direct = `http://127.0.0.1:${target}`;
  relayPort = await listenRelay();
  url = `http://127.0.0.1:${relayPort}`;
  for (const a of dataset.announces) {
    const res = await fetch(`${direct}/api/v1/fapp/announces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ announce: Buffer.from(a).toString('base64url') }) });
    expect(res.status).toBe(201);
  }
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  relay?.close();
  await server?.close();
  rmSync(data, { recursive: true, force: true });
});

describe('qpc send, fetch, devices', () => {
  it('registers on first use, sends, fetches once, lists devices; clear exit codes for unknown users and wrong passwords', async () => {
    const dora = await qpc('devices', '-u', 'dora', '-p', 'pw-dora');
    expect(dora).toMatchObject({ code: EXIT.OK, err: '' });
    expect(dora.out).toMatch(/^\* [0-9a-f-]{36} {2}qpc on /);

    expect(await qpc('send', 'dora', 'Hallo Dora', '-u', 'erik', '-p', 'pw-erik')).toMatchObject({ code: EXIT.OK, out: 'sent to dora\n' });
    const got = await qpc('fetch', '-u', 'dora', '-p', 'pw-dora');
    expect(got.out).toBe('* erik started a conversation with you\n[erik] Hallo Dora\n');
    expect((await qpc('fetch', '-u', 'dora', '-p', 'pw-dora')).out).toBe('');

    expect(await qpc('send', 'dora', 'zweite', '-u', 'erik', '-p', 'pw-erik')).toMatchObject({ code: EXIT.OK });
    const json = await qpc('fetch', '-u', 'dora', '-p', 'pw-dora', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ conversation: 'erik', from: 'erik', verified: true, text: 'zweite', type: 'text' });

    expect(await qpc('send', 'nobody', 'hi', '-u', 'erik', '-p', 'pw-erik')).toMatchObject({ code: EXIT.NO_USER, err: 'qpc: no such user\n' });
    expect(await qpc('fetch', '-u', 'dora', '-p', 'wrong')).toMatchObject({ code: EXIT.NO_PERM, err: 'qpc: wrong username or password\n' });
    expect(await qpc('send', 'dora', 'x', '-u', 'erik', '-p', 'pw-erik', '--bogus')).toMatchObject({ code: EXIT.USAGE });
  });
});

/** A REPL in this process on plain streams (no terminal: no prompt redraws, no colours). */
function repl(user: string, password: string, dir = data) {
  const input = new PassThrough();
  const io = { screen: '', input, exit: Promise.resolve(0) };
  const output = new Writable({
    write(chunk, _enc, cb) {
      io.screen += String(chunk);
      cb();
    },
  });
  io.exit = run(['repl', '-u', user, '-p', password, '--server', url, '--data-dir', dir], { stdout: () => undefined, stderr: () => undefined, env: {}, stdin: input, stdoutStream: output });
  return io;
}

describe('qpc repl when the server goes away', () => {
  it('says "cannot reach …, retrying", keeps what is typed in the outbox, and sends it when the server is back', async () => {
    const r = repl('erik', 'pw-erik');
    const input = r.input;
    const screen = () => r.screen;
    await expect.poll(screen).toMatch(/logged in as erik[^]*\* connected to /);
    input.write('/switch dora\n');
    input.write('/history 1\n');
    await expect.poll(screen).toMatch(/\d\d:\d\d \[erik\] zweite/);

    await cutRelay();
    const mark = r.screen.length;
    const since = () => r.screen.slice(mark);
    await expect.poll(since).toContain(`cannot reach ${url}, retrying`);
    input.write('während der Server weg ist\n');
    await expect.poll(since).toContain(`* kept in the outbox until ${url} is reachable`);

    await listenRelay(relayPort);
    await expect.poll(since).toContain(`* connected to ${url}`);
    await expect.poll(async () => (await qpc('fetch', '-u', 'dora', '-p', 'pw-dora')).out).toBe('[erik] während der Server weg ist\n');
    input.end();
    expect(await r.exit).toBe(EXIT.OK);
  });

  it('/devices rm revokes another device of the account, whose REPL is told and ends with 77', async () => {
    const second = repl('dora', 'pw-dora', join(data, 'second-device'));
    await expect.poll(() => second.screen).toMatch(/logged in as dora .*\(device [0-9a-f]{8}\)[^]*\* connected to /);
    const id = /\(device ([0-9a-f]{8})\)/.exec(second.screen)![1]!;
    const first = repl('dora', 'pw-dora');
    await expect.poll(() => first.screen).toMatch(/logged in as dora[^]*\* connected to /);
    first.input.write('/devices list\n');
    await expect.poll(() => first.screen).toMatch(new RegExp(`^  ${id}[0-9a-f-]+  qpc on `, 'm'));
    first.input.write(`/devices rm ${id}\n`);
    await expect.poll(() => first.screen).toMatch(new RegExp(`\\* device ${id}[0-9a-f-]+ revoked`));
    expect(await second.exit).toBe(EXIT.NO_PERM);
    expect(second.screen).toContain('this device was revoked for the account; leaving');
    first.input.end();
    expect(await first.exit).toBe(EXIT.OK);
  });
});

describe('qpc fapp search', () => {
  it('prints a table of free slots for a PLZ prefix and Fachrichtung, or JSON', async () => {
    const t = dataset.therapists[0]!;
    const prefix = t.plz.slice(0, 3);
    const names = ['', 'verhaltenstherapie', 'tiefenpsychologisch', 'analytisch', 'systemisch'];
    const f = names[t.input.fachrichtungen[0]!]!;
    const table = await qpc('fapp', 'search', '--plz', prefix, '--fachrichtung', f);
    expect(table.code).toBe(EXIT.OK);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Beginn \(Europe\/Berlin\) +Dauer +Terminart +PLZ +Approbation/);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines.slice(2)) expect(l).toContain(` ${prefix}`);
    const json = JSON.parse((await qpc('fapp', 'search', '--plz', prefix, '--fachrichtung', f, '--json')).out) as { plz: string; verified: boolean }[];
    expect(json.length).toBe(lines.length - 2);
    expect(json.every((h) => h.plz.startsWith(prefix) && h.verified)).toBe(true);
    const empty = ['10', '20', '30', '40', '50', '60', '70', '80', '90'].find((p) => !dataset.therapists.some((x) => x.plz.startsWith(p)))!;
    expect(await qpc('fapp', 'search', '--plz', empty)).toMatchObject({ code: EXIT.OK, out: `no free slots found for PLZ ${empty}*\n` });
    expect(await qpc('fapp', 'search', '--plz', '00000')).toMatchObject({ code: EXIT.FAILED, err: expect.stringMatching(/^qpc: .*\(fapp\./) });
  });
});
