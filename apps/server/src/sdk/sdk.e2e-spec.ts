import type { AddressInfo } from 'node:net';
import { type FetchLike, type IncomingEvent, QpcClient, VerificationError, type WebSocketFactory } from '@qpc/sdk';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';

let t: TestApp;
let baseUrl: string;
const client = (fetch?: FetchLike) => new QpcClient({ baseUrl, keyStretching: 'memory-constrained', ...(fetch ? { fetch } : {}) });
const texts = (events: IncomingEvent[]) => events.map((e) => (e.kind === 'message' ? e.text : e.kind));

/** Registers both, and `a` invites `b` into a new group that `b` has joined; returns its id. */
async function pairUp(a: QpcClient, aName: string, b: QpcClient, bName: string, opts: { join?: boolean } = {}): Promise<string> {
  await a.register(aName, 'pw');
  await b.register(bName, 'pw');
  await b.replenishKeyPackages(2);
  const gid = await a.createGroup();
  await a.invite(gid, bName);
  if (opts.join !== false) await b.sync();
  return gid;
}

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
});

describe('QpcClient against a real server', () => {
  it('Alice and Bob: register, stock key packages, KT-verified invite, messages both ways with verified receipts, key rotation', async () => {
    const alice = client();
    const bob = client();
    await alice.register('alice', 'correct horse', 'laptop');
    await bob.register('bob', 'battery staple', 'phone');
    expect((await bob.replenishKeyPackages(5)).available).toBe(5);

    const devices = await alice.resolveDevices('bob');
    expect(devices.devices.map((d) => d.deviceId)).toEqual([bob.deviceId]);

    const gid = await alice.createGroup();
    const added = await alice.invite(gid, 'bob');
    expect(added).toHaveLength(1);
    expect(await bob.sync()).toEqual([expect.objectContaining({ kind: 'joined', groupId: gid })]);

    await alice.sendText(gid, 'Hallo Bob');
    await alice.sendText(gid, 'Wie geht es?');
    const got = await bob.sync();
    expect(got.map((e) => (e.kind === 'message' ? e.text : e.kind))).toEqual(['Hallo Bob', 'Wie geht es?']);

    await bob.sendText(gid, 'Gut, danke');
    expect((await alice.sync()).map((e) => (e.kind === 'message' ? e.text : e.kind))).toEqual(['Gut, danke']);

    await bob.rotateKeys(gid);
    expect((await alice.sync()).map((e) => e.kind)).toEqual(['commit']);
    await alice.sendText(gid, 'after rotation');
    expect((await bob.sync()).map((e) => (e.kind === 'message' ? e.text : e.kind))).toEqual(['after rotation']);
  });

  it('logs in again on the same device and rejects a wrong password', async () => {
    const a = client();
    await a.register('carol', 'pw one');
    const again = client();
    await again.login('carol', 'pw one', a.identity);
    expect(again.deviceId).toBe(a.deviceId);
    await expect(client().login('carol', 'wrong')).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
  });

  it('a wrong pinned server key fails KT verification', async () => {
    const d = client();
    await d.register('dave', 'pw');
    const pinned = new QpcClient({ baseUrl, keyStretching: 'memory-constrained', serverKey: new Uint8Array(32).fill(7) });
    await expect(pinned.resolveDevices('dave')).rejects.toBeInstanceOf(VerificationError);
  });

  it('outbox: messages composed offline go out on reconnect with the same id, once, in order; a lost response is retried without a duplicate', async () => {
    let offline = false;
    let dropResponse = false;
    const flaky: FetchLike = async (input, init) => {
      if (offline) throw new TypeError('network down');
      const res = await fetch(input, init);
      if (dropResponse) {
        dropResponse = false;
        throw new TypeError('connection reset');
      }
      return res;
    };
    const erin = client(flaky);
    const finn = client();
    const gid = await pairUp(erin, 'erin', finn, 'finn');

    offline = true;
    for (const text of ['eins', 'zwei', 'drei']) expect((await erin.sendText(gid, text)).deliveries).toBeNull();
    expect(erin.pendingOutbox).toBe(3);
    offline = false;
    dropResponse = true;
    // The first message reaches the server but its response is lost: it stays queued …
    expect(await erin.flushOutbox()).toBe(0);
    expect(erin.pendingOutbox).toBe(3);
    // … and the resend with the same client message id is answered from the first result.
    expect(await erin.flushOutbox()).toBe(3);
    expect(erin.pendingOutbox).toBe(0);
    expect(texts(await finn.sync())).toEqual(['eins', 'zwei', 'drei']);
  });

  it('Bob offline while Alice sends 100 messages: all arrive, in order, once, without gaps', async () => {
    const a = client();
    const b = client();
    const gid = await pairUp(a, 'gina', b, 'hugo');
    for (let i = 0; i < 100; i++) await a.sendText(gid, `m${i}`);
    const got = await b.sync();
    expect(got.filter((e) => e.kind === 'gap')).toEqual([]);
    expect(texts(got)).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    expect(await b.sync()).toEqual([]);
  });

  it('epoch race: both rotate at once, exactly one wins, the loser catches up and its next commit succeeds', async () => {
    const a = client();
    const b = client();
    const gid = await pairUp(a, 'ida', b, 'jan');
    const results = await Promise.allSettled([a.rotateKeys(gid), b.rotateKeys(gid)]);
    const lost = results.findIndex((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results[lost] as PromiseRejectedResult).reason).toMatchObject({ status: 409, code: 'delivery.stale_epoch' });
    const [winner, loser] = lost === 0 ? [b, a] : [a, b];
    expect((await loser.sync()).map((e) => e.kind)).toEqual(['commit']);
    await loser.rotateKeys(gid);
    expect((await winner.sync()).map((e) => e.kind)).toEqual(['commit']);
    await winner.sendText(gid, 'still talking');
    expect(texts(await loser.sync())).toEqual(['still talking']);
  });

  it("a five-person group with add and remove, and Alice's second device sees what her first sends", async () => {
    const names = ['kai', 'lea', 'max', 'nia', 'ole'];
    const cs = names.map(() => client());
    for (const [i, c] of cs.entries()) {
      await c.register(names[i]!, 'pw');
      await c.replenishKeyPackages(3);
    }
    const kai2 = client();
    await kai2.login('kai', 'pw');
    await kai2.replenishKeyPackages(3);
    const [kai, ...others] = cs;
    const gid = await kai!.createGroup();
    for (const n of ['kai', ...names.slice(1)]) await kai!.invite(gid, n);
    for (const c of [kai2, ...others]) expect((await c.sync()).some((e) => e.kind === 'joined')).toBe(true);
    for (const c of [kai2, ...others]) await c.sync();
    await kai!.sendText(gid, 'hallo alle');
    for (const c of [kai2, ...others]) expect(texts(await c.sync())).toEqual(['hallo alle']);

    await kai!.removeUser(gid, 'ole');
    const oleEvents = await others[3]!.sync();
    expect(oleEvents).toEqual([expect.objectContaining({ kind: 'commit', removed: true })]);
    for (const c of [kai2, ...others.slice(0, 3)]) expect((await c.sync()).map((e) => e.kind)).toEqual(['commit']);
    await others[0]!.sendText(gid, 'ohne ole');
    for (const c of [kai!, kai2, ...others.slice(1, 3)]) expect(texts(await c.sync())).toEqual(['ohne ole']);
    expect(await others[3]!.sync()).toEqual([]);
  });

  it('push subscription: messages arrive over the WebSocket, are acked, and a new subscription resumes after the last one', async () => {
    const a = client();
    const b = new QpcClient({ baseUrl, keyStretching: 'memory-constrained', WebSocket: WebSocket as unknown as WebSocketFactory });
    const gid = await pairUp(a, 'pia', b, 'quin', { join: false });
    const seen: IncomingEvent[] = [];
    const until = async (n: number) => {
      for (let i = 0; i < 100 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 50));
      expect(seen.length).toBeGreaterThanOrEqual(n);
    };
    let sub = b.subscribe((events) => seen.push(...events));
    await sub.ready;
    await until(1);
    expect(seen[0]).toMatchObject({ kind: 'joined', groupId: gid });
    await a.sendText(gid, 'live 1');
    await a.sendText(gid, 'live 2');
    await until(3);
    sub.close();
    await a.sendText(gid, 'while away');
    sub = b.subscribe((events) => seen.push(...events));
    await until(4);
    sub.close();
    expect(texts(seen)).toEqual(['joined', 'live 1', 'live 2', 'while away']);
    expect(await b.sync()).toEqual([]);
  });

  it('while subscribed, messages go out on the push socket (no HTTP request each), with verified receipts; without it over HTTP', async () => {
    const posts: string[] = [];
    const counting: FetchLike = (input, init) => {
      if (init?.method === 'POST') posts.push(new URL(input).pathname);
      return fetch(input, init);
    };
    const a = new QpcClient({ baseUrl, keyStretching: 'memory-constrained', fetch: counting, WebSocket: WebSocket as unknown as WebSocketFactory });
    const b = client();
    const gid = await pairUp(a, 'rosa', b, 'sam');
    const sub = a.subscribe(() => undefined);
    await sub.ready;
    posts.length = 0;
    await a.sendText(gid, 'over the socket 1');
    await a.sendText(gid, 'over the socket 2');
    expect(a.pendingOutbox).toBe(0);
    expect(posts.filter((path) => path.endsWith('/messages'))).toEqual([]);
    expect(texts(await b.sync())).toEqual(['over the socket 1', 'over the socket 2']);

    sub.close();
    await a.sendText(gid, 'over HTTP');
    expect(posts.filter((path) => path.endsWith('/messages'))).toEqual([`/api/v1/groups/${gid}/messages`]);
    expect(texts(await b.sync())).toEqual(['over HTTP']);
  });

  it('a socket that drops after a send frame went out (answer lost): the message stays in the outbox and arrives once after the reconnect', async () => {
    /** The real ws client, except that the first connection is cut right after its first `send` frame. */
    let cut = false;
    class CuttingSocket extends WebSocket {
      override send(data: string) {
        super.send(data);
        if (!cut && String(data).includes('"type":"send"')) {
          cut = true;
          this.terminate();
        }
      }
    }
    const a = new QpcClient({ baseUrl, keyStretching: 'memory-constrained', WebSocket: CuttingSocket as unknown as WebSocketFactory });
    const b = client();
    const gid = await pairUp(a, 'tara', b, 'uli');
    const statuses: boolean[] = [];
    const sub = a.subscribe(() => undefined, { reconnectMs: 50, onStatus: (st) => statuses.push(st.connected) });
    await sub.ready;
    await a.sendText(gid, 'sent once');
    expect(cut).toBe(true);
    // The answer never came: kept, and sent again on the reconnect under the same client message id.
    await expect.poll(() => a.pendingOutbox, { timeout: 10_000 }).toBe(0);
    expect(statuses).toEqual([true, false, true]);
    sub.close();
    expect(texts(await b.sync())).toEqual(['sent once']);
  });
});
