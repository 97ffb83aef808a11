import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FetchLike, type IncomingEvent, QpcClient, StoreError } from '@qpc/sdk';
import { FileStore } from '@qpc/sdk/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';

let t: TestApp;
let baseUrl: string;
let data: string;
const client = (user: string, fetch?: FetchLike) => new QpcClient({ baseUrl, keyStretching: 'memory-constrained', store: FileStore.forUser(data, user), ...(fetch ? { fetch } : {}) });
const messages = (events: IncomingEvent[]) => events.flatMap((e) => (e.kind === 'message' ? [`[${e.sender}${e.verified ? '' : '?'}] ${e.text}`] : []));

beforeAll(async () => {
  data = mkdtempSync(join(tmpdir(), 'qpc-sdk-store-'));
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
  rmSync(data, { recursive: true, force: true });
});

describe('QpcClient with an encrypted local store', () => {
  it('restarts from its store and continues the conversation: same device, groups, names, history, sequence', async () => {
    const alice = client('alice');
    const bob = client('bob');
    await alice.register('alice', 'pw-alice');
    await bob.register('bob', 'pw-bob');
    await bob.replenishKeyPackages(3);
    const dm = await alice.startDm('bob');
    const joined = await bob.sync();
    expect(joined.map((e) => e.kind)).toEqual(['joined', 'conversation']);
    expect(bob.conversation(dm)).toMatchObject({ name: 'alice', kind: 'dm', members: ['alice', 'bob'] });
    await alice.sendText(dm, 'Hello, Bob!');
    expect(messages(await bob.sync())).toEqual(['[alice] Hello, Bob!']);

    // Both processes end; new ones start from the files alone.
    const alice2 = client('alice');
    const bob2 = client('bob');
    await alice2.login('alice', 'pw-alice');
    await bob2.login('bob', 'pw-bob');
    expect(alice2.deviceId).toBe(alice.deviceId);
    expect(bob2.deviceId).toBe(bob.deviceId);
    expect(bob2.lastProcessedSeq).toBe(bob.lastProcessedSeq);
    expect(bob2.conversations().map((c) => c.name)).toEqual(['alice']);
    expect((await bob2.history(dm)).map((h) => `${h.from}: ${h.text}`)).toEqual(['alice: Hello, Bob!']);
    expect((await alice2.history(dm)).map((h) => `${h.from}: ${h.text} ${h.own}`)).toEqual(['alice: Hello, Bob! true']);
    expect(await bob2.sync()).toEqual([]);

    await bob2.sendText(dm, 'Hi Alice');
    expect(messages(await alice2.sync())).toEqual(['[bob] Hi Alice']);
    // Bob is offline (no process) while Alice sends; his next start picks it up.
    await alice2.sendText(dm, 'while you were away');
    const bob3 = client('bob');
    await bob3.login('bob', 'pw-bob');
    expect(messages(await bob3.sync())).toEqual(['[alice] while you were away']);
    expect((await bob3.history(dm, 2)).map((h) => h.text)).toEqual(['Hi Alice', 'while you were away']);
  });

  it('an outbox composed offline survives a restart and goes out once', async () => {
    let offline = false;
    const flaky: FetchLike = async (input, init) => {
      if (offline) throw new TypeError('network down');
      return fetch(input, init);
    };
    const erin = client('erin', flaky);
    const finn = client('finn');
    await erin.register('erin', 'pw');
    await finn.register('finn', 'pw');
    await finn.replenishKeyPackages(2);
    const dm = await erin.startDm('finn');
    await finn.sync();
    offline = true;
    await erin.sendText(dm, 'eins');
    await erin.sendText(dm, 'zwei');
    expect(erin.pendingOutbox).toBe(2);
    const erin2 = client('erin');
    await erin2.login('erin', 'pw');
    expect(erin2.pendingOutbox).toBe(2);
    expect(await erin2.flushOutbox()).toBe(2);
    expect(messages(await finn.sync())).toEqual(['[erin] eins', '[erin] zwei']);
  });

  it('a wrong password opens nothing; a damaged store file is a clear StoreError', async () => {
    const gina = client('gina');
    await gina.register('gina', 'right');
    await expect(client('gina').login('gina', 'wrong')).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
    writeFileSync(join(data, 'gina', 'account.rec'), 'garbage that is not a vault');
    const err = await client('gina')
      .login('gina', 'right')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'store.corrupt', message: expect.stringContaining('"account"') });
  });
});
