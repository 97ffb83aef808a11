import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  addMembers,
  createKeyPackage,
  createMlsGroup,
  encryptMessage,
  fromBase64Url,
  fromUtf8,
  groupId as mlsGroupId,
  joinFromWelcome,
  type MlsGroup,
  type MlsKeyPackageBundle,
  processMessage,
  sha256,
  toBase64Url,
  updateKeys,
  utf8,
  verify,
} from '@qpc/crypto';
import { DataSource } from 'typeorm';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { call, login, registerUser, type TestUser } from '../messenger/test-kit.js';
import { MAX_ACK_BATCH, MAX_SEND_BATCH } from './delivery.repository.js';
import { receiptInput } from './receipts.js';

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
/** Joins only if the commit adding them wins the epoch race; carol stays outside every group. */
let dave: TestUser;
let aliceGroup: MlsGroup;
let bobGroup: MlsGroup;
let gid: string;
let bobKp: MlsKeyPackageBundle;

const kp = (u: TestUser) => createKeyPackage(utf8(u.deviceId), { signingKey: u.signing });
const fetchQueue = async (u: { token: string }, after = 0) => (await call(t.app, 'GET', `/api/v1/delivery/messages?after=${after}`, undefined, u.token)).json();
const sendApp = async (u: TestUser, g: MlsGroup, text: string, clientMessageId = randomUUID()) => {
  const { group, message } = await encryptMessage(g, utf8(text));
  const res = await call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId, message: toBase64Url(message) }, u.token);
  return { group, res };
};

beforeAll(async () => {
  t = await createTestApp();
  [alice, bob, carol, dave] = await Promise.all([registerUser(t.app, 'alice'), registerUser(t.app, 'bob'), registerUser(t.app, 'carol'), registerUser(t.app, 'dave')]);
  bobKp = await kp(bob);
  await call(t.app, 'POST', '/api/v1/keys/packages', { keyPackages: [toBase64Url(bobKp.encoded)] }, bob.token);
  aliceGroup = await createMlsGroup(await kp(alice));
  gid = toBase64Url(mlsGroupId(aliceGroup));
});
afterAll(async () => {
  await t?.close();
});

describe('groups and delivery', () => {
  it('creates a group, adds Bob with a Welcome released with the commit, and delivers application messages in order', async () => {
    expect((await call(t.app, 'POST', '/api/v1/groups', { groupId: gid }, alice.token)).statusCode).toBe(201);
    expect((await call(t.app, 'POST', '/api/v1/groups', { groupId: gid }, alice.token)).json().code).toBe('groups.exists');
    const claimed = (await call(t.app, 'POST', '/api/v1/keys/claim', { username: 'bob' }, alice.token)).json().devices[0];
    const add = await addMembers(aliceGroup, [fromBase64Url(claimed.keyPackage)]);
    const res = await call(t.app, 'POST', `/api/v1/groups/${gid}/commits`, { clientMessageId: randomUUID(), commit: toBase64Url(add.commit), welcome: toBase64Url(add.welcome!), addDevices: [bob.deviceId] }, alice.token);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ epoch: 1, duplicate: false, skipped: [] });
    expect(res.json().deliveries).toEqual([expect.objectContaining({ deviceId: bob.deviceId, seq: 1 })]);
    aliceGroup = (await processMessage(add.group, add.commit)).group;

    const q = await fetchQueue(bob);
    expect(q.messages).toHaveLength(1);
    expect(q.messages[0]).toMatchObject({ seq: 1, senderDeviceId: alice.deviceId, groupId: gid });
    bobGroup = await joinFromWelcome(fromBase64Url(q.messages[0].payload), bobKp);

    const sent = await sendApp(alice, aliceGroup, 'hallo bob');
    aliceGroup = sent.group;
    expect(sent.res.statusCode).toBe(201);
    const q2 = await fetchQueue(bob, 1);
    expect(q2.messages.map((m: { seq: number }) => m.seq)).toEqual([2]);
    const got = await processMessage(bobGroup, fromBase64Url(q2.messages[0].payload));
    bobGroup = got.group;
    expect(got.kind === 'application' && fromUtf8(got.plaintext)).toBe('hallo bob');
    expect(q2.nextSeq).toBe(3);

    const group = (await call(t.app, 'GET', `/api/v1/groups/${gid}`, undefined, bob.token)).json();
    expect(group).toEqual({ groupId: gid, epoch: 1, members: [alice.deviceId, bob.deviceId].sort() });
  });

  it('signs a verifiable receipt over (message hash, queue, seq, time)', async () => {
    const key = fromBase64Url((await call(t.app, 'GET', '/api/v1/delivery/receipt-key')).json().publicKey);
    const { group, message } = await encryptMessage(aliceGroup, utf8('receipt me'));
    aliceGroup = group;
    const res = (await call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId: randomUUID(), message: toBase64Url(message) }, alice.token)).json();
    const r = res.deliveries[0].receipt;
    expect(r).toMatchObject({ queue: bob.deviceId, seq: res.deliveries[0].seq, messageHash: toBase64Url(sha256(message)) });
    const input = receiptInput(sha256(message), r.queue, r.seq, Date.parse(r.time));
    expect(verify(key, input, fromBase64Url(r.signature))).toBe(true);
    expect(verify(key, receiptInput(sha256(message), r.queue, r.seq + 1, Date.parse(r.time)), fromBase64Url(r.signature))).toBe(false);
  });

  it('enqueue is idempotent by client message id', async () => {
    const id = randomUUID();
    const { group, res } = await sendApp(alice, aliceGroup, 'once', id);
    aliceGroup = group;
    const { res: again } = await sendApp(alice, aliceGroup, 'once (retry)', id);
    expect(again.statusCode).toBe(201);
    expect(again.json().duplicate).toBe(true);
    expect(again.json().deliveries).toEqual(res.json().deliveries);
    const seqs = (await fetchQueue(bob)).messages.map((m: { seq: number }) => m.seq);
    expect(seqs.filter((s: number) => s === res.json().deliveries[0].seq)).toHaveLength(1);
  });

  it('concurrent sends get gap-free sequence numbers', async () => {
    const before = (await fetchQueue(bob)).nextSeq;
    const msgs: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await encryptMessage(aliceGroup, utf8(`m${i}`));
      aliceGroup = r.group;
      msgs.push(r.message);
    }
    const results = await Promise.all(msgs.map((m) => call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId: randomUUID(), message: toBase64Url(m) }, alice.token)));
    const seqs = results.map((r) => r.json().deliveries[0].seq).sort((a: number, b: number) => a - b);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => before + i));
  });

  it('ack deletes up to a sequence; fetch pages from a sequence', async () => {
    const q = await fetchQueue(bob);
    const last = q.messages[q.messages.length - 1].seq;
    const page = (await call(t.app, 'GET', `/api/v1/delivery/messages?after=0&limit=3`, undefined, bob.token)).json();
    expect(page.messages.map((m: { seq: number }) => m.seq)).toEqual(q.messages.slice(0, 3).map((m: { seq: number }) => m.seq));
    const ack = await call(t.app, 'POST', '/api/v1/delivery/ack', { upTo: last - 1 }, bob.token);
    expect(ack.json()).toEqual({ depth: 1 });
    expect((await fetchQueue(bob)).messages.map((m: { seq: number }) => m.seq)).toEqual([last]);
    await call(t.app, 'POST', '/api/v1/delivery/ack', { upTo: last }, bob.token);
    expect((await fetchQueue(bob)).messages).toEqual([]);
  });

  it('sends that share one batch statement each get their own outcome: fresh, the same id twice, a non-member', async () => {
    const before = (await fetchQueue(bob)).nextSeq;
    const msgs: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await encryptMessage(aliceGroup, utf8(`batch ${i}`));
      aliceGroup = r.group;
      msgs.push(r.message);
    }
    const twice = randomUUID();
    const post = (u: TestUser, m: Uint8Array, id = randomUUID()) => call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId: id, message: toBase64Url(m) }, u.token);
    // Sent together: they queue up behind the statement in flight and go as one batch.
    const [a, b, c, d, e, f, g] = await Promise.all([post(alice, msgs[0]!), post(alice, msgs[1]!, twice), post(alice, msgs[2]!, twice), post(carol, msgs[3]!), post(alice, msgs[4]!), post(alice, msgs[5]!), post(carol, msgs[5]!)]);
    for (const r of [a, b, c, e, f]) expect(r.statusCode).toBe(201);
    for (const r of [d, g]) expect(r.json().code).toBe('groups.not_found');
    expect([b, c].map((r) => r.json().duplicate).sort()).toEqual([false, true]);
    expect(c.json().deliveries).toEqual(b.json().deliveries);
    const seqs = [a, b, e, f].map((r) => r.json().deliveries[0].seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual([before, before + 1, before + 2, before + 3]);
    const q = (await fetchQueue(bob, before - 1)).messages as { seq: number }[];
    expect(q.map((m) => m.seq)).toEqual(seqs);
  });

  it('acks that share one statement: each device deletes only up to its own highest ack', async () => {
    const tokB = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, bob.token)).json().deliveryToken as string;
    const tokD = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, dave.token)).json().deliveryToken as string;
    const sealed = async (tok: string, text: string) => (await call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: tok, clientMessageId: randomUUID(), payload: toBase64Url(utf8(text)) })).json().deliveries[0].seq as number;
    const b1 = await sealed(tokB, 'b1');
    const b2 = await sealed(tokB, 'b2');
    const b3 = await sealed(tokB, 'b3');
    const d1 = await sealed(tokD, 'd1');
    const d2 = await sealed(tokD, 'd2');
    const ack = (u: TestUser, upTo: number) => call(t.app, 'POST', '/api/v1/delivery/ack', { upTo }, u.token);
    const res = await Promise.all([ack(bob, b1), ack(dave, d1), ack(bob, b2), ack(bob, b1)]);
    for (const r of res) expect(r.statusCode).toBe(200);
    expect((await fetchQueue(bob)).messages.map((m: { seq: number }) => m.seq)).toEqual([b3]);
    expect((await fetchQueue(dave)).messages.map((m: { seq: number }) => m.seq)).toEqual([d2]);
    expect((await ack(bob, b3)).json()).toEqual({ depth: 0 });
    expect((await ack(dave, d2)).json()).toEqual({ depth: 0 });
  });

  it('an ack past the last sequence deletes what is there and hides nothing: later messages are deleted by later acks, an older ack changes nothing', async () => {
    const tokD = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, dave.token)).json().deliveryToken as string;
    const sealed = async (text: string) => (await call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: tokD, clientMessageId: randomUUID(), payload: toBase64Url(utf8(text)) })).json().deliveries[0].seq as number;
    const ack = async (upTo: number) => (await call(t.app, 'POST', '/api/v1/delivery/ack', { upTo }, dave.token)).json().depth as number;
    const first = await sealed('x1');
    expect(await ack(first + 1000)).toBe(0);
    const second = await sealed('x2');
    const third = await sealed('x3');
    expect([second, third]).toEqual([first + 1, first + 2]);
    expect((await fetchQueue(dave, first)).messages.map((m: { seq: number }) => m.seq)).toEqual([second, third]);
    expect(await ack(first)).toBe(2);
    expect(await ack(second)).toBe(1);
    expect((await fetchQueue(dave, first)).messages.map((m: { seq: number }) => m.seq)).toEqual([third]);
    expect(await ack(third)).toBe(0);
  });

  it(`more concurrent sends than one batch statement holds (${MAX_SEND_BATCH}), and more acks than one ack statement takes (${MAX_ACK_BATCH}), all go through`, async () => {
    const before = (await fetchQueue(bob)).nextSeq;
    const n = MAX_SEND_BATCH * 2 + 3;
    const msgs: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const r = await encryptMessage(aliceGroup, utf8(`many ${i}`));
      aliceGroup = r.group;
      msgs.push(r.message);
    }
    const sent = await Promise.all(msgs.map((m) => call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId: randomUUID(), message: toBase64Url(m) }, alice.token)));
    expect(sent.map((r) => r.statusCode)).toEqual(msgs.map(() => 201));
    const seqs = sent.map((r) => r.json().deliveries[0].seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => before + i));
    const acks = await Promise.all(Array.from({ length: MAX_ACK_BATCH + 50 }, (_, i) => call(t.app, 'POST', '/api/v1/delivery/ack', { upTo: before + (i % n) }, bob.token)));
    expect(acks.every((r) => r.statusCode === 200)).toBe(true);
    expect((await fetchQueue(bob)).messages).toEqual([]);
  });

  it('long-poll returns as soon as a message arrives', async () => {
    const next = (await fetchQueue(bob)).nextSeq;
    const started = Date.now();
    const poll = call(t.app, 'GET', `/api/v1/delivery/messages?after=${next - 1}&waitMs=10000`, undefined, bob.token);
    await new Promise((r) => setTimeout(r, 200));
    const { group } = await sendApp(alice, aliceGroup, 'wake up');
    aliceGroup = group;
    const res = (await poll).json();
    expect(res.messages.map((m: { seq: number }) => m.seq)).toEqual([next]);
    expect(Date.now() - started).toBeLessThan(5000);
    await call(t.app, 'POST', '/api/v1/delivery/ack', { upTo: next }, bob.token);
  });

  it('exactly one commit per epoch wins; the others get 409 delivery.stale_epoch and their Welcomes are never released', async () => {
    const epoch = (await call(t.app, 'GET', `/api/v1/groups/${gid}`, undefined, alice.token)).json().epoch;
    const a = await updateKeys(aliceGroup);
    const b = await updateKeys(bobGroup);
    const daveKps = [await kp(dave)];
    const bWithAdd = await addMembers(bobGroup, daveKps.map((k) => k.encoded));
    const bodies = [
      { token: alice.token, body: { clientMessageId: randomUUID(), commit: toBase64Url(a.commit) } },
      { token: bob.token, body: { clientMessageId: randomUUID(), commit: toBase64Url(b.commit) } },
      { token: bob.token, body: { clientMessageId: randomUUID(), commit: toBase64Url(bWithAdd.commit), welcome: toBase64Url(bWithAdd.welcome!), addDevices: [dave.deviceId] } },
      ...Array.from({ length: 7 }, () => ({ token: alice.token, body: { clientMessageId: randomUUID(), commit: toBase64Url(a.commit) } })),
    ];
    const results = await Promise.all(bodies.map((b) => call(t.app, 'POST', `/api/v1/groups/${gid}/commits`, b.body, b.token)));
    const ok = results.filter((r) => r.statusCode === 201);
    const stale = results.filter((r) => r.statusCode === 409);
    expect(ok).toHaveLength(1);
    expect(stale).toHaveLength(bodies.length - 1);
    for (const r of stale) {
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json()).toMatchObject({ code: 'delivery.stale_epoch', currentEpoch: epoch + 1 });
    }
    const winner = results.indexOf(ok[0]!);
    const daveQueue = (await fetchQueue(dave)).messages;
    // A losing commit's Welcome is never released; the winning one's is.
    if (winner !== 2) expect(daveQueue).toEqual([]);
    else expect(daveQueue.some((m: { payload: string }) => m.payload === bodies[2]!.body.welcome)).toBe(true);
    // The winner's retry returns its first result instead of a 409.
    const retry = await call(t.app, 'POST', `/api/v1/groups/${gid}/commits`, bodies[winner]!.body, bodies[winner]!.token);
    expect(retry.statusCode).toBe(201);
    expect(retry.json().duplicate).toBe(true);
    // Bring both MLS states to the winning epoch for the tests below.
    const q = await fetchQueue(bob);
    const commitForBob = q.messages.find((m: { payload: string }) => m.payload === bodies[winner]!.body.commit);
    if (winner === 0) {
      aliceGroup = (await processMessage(a.group, a.commit)).group;
      bobGroup = (await processMessage(b.group, fromBase64Url(commitForBob.payload))).group;
    } else {
      const w = winner === 1 ? b : bWithAdd;
      bobGroup = (await processMessage(w.group, w.commit)).group;
      aliceGroup = (await processMessage(a.group, w.commit)).group;
    }
    await call(t.app, 'POST', '/api/v1/delivery/ack', { upTo: q.nextSeq }, bob.token);
  });

  it('rejects non-commits on /commits, commits on /messages, foreign group ids and garbage', async () => {
    const { message } = await encryptMessage(aliceGroup, utf8('x'));
    const r1 = await call(t.app, 'POST', `/api/v1/groups/${gid}/commits`, { clientMessageId: randomUUID(), commit: toBase64Url(message) }, alice.token);
    expect(r1.json().code).toBe('groups.not_a_commit');
    const c = await updateKeys(aliceGroup);
    const r2 = await call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId: randomUUID(), message: toBase64Url(c.commit) }, alice.token);
    expect(r2.json().code).toBe('groups.not_an_application_message');
    const r3 = await call(t.app, 'POST', `/api/v1/groups/${toBase64Url(new Uint8Array(16))}/messages`, { clientMessageId: randomUUID(), message: toBase64Url(message) }, alice.token);
    expect(r3.json().code).toBe('groups.wrong_group');
    const r4 = await call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId: randomUUID(), message: 'AAAA' }, alice.token);
    expect(r4.json().code).toBe('groups.malformed');
  });
});

describe('authorisation', () => {
  it("a non-member cannot read, send to or commit in a group, nor fetch or ack another device's queue", async () => {
    const { message } = await encryptMessage(aliceGroup, utf8('not for carol'));
    const c = await updateKeys(aliceGroup);
    expect((await call(t.app, 'GET', `/api/v1/groups/${gid}`, undefined, carol.token)).statusCode).toBe(404);
    const send = await call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId: randomUUID(), message: toBase64Url(message) }, carol.token);
    expect(send.statusCode).toBe(404);
    const commit = await call(t.app, 'POST', `/api/v1/groups/${gid}/commits`, { clientMessageId: randomUUID(), commit: toBase64Url(c.commit) }, carol.token);
    expect(commit.statusCode).toBe(404);
    const r = await call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId: randomUUID(), message: toBase64Url(message) }, alice.token);
    expect(r.statusCode).toBe(201);
    const bobBefore = (await fetchQueue(bob)).messages.length;
    expect(bobBefore).toBeGreaterThan(0);
    expect((await fetchQueue(carol)).messages.every((m: { groupId?: string; payload: string }) => m.groupId !== gid || m.payload !== toBase64Url(message))).toBe(true);
    await call(t.app, 'POST', '/api/v1/delivery/ack', { upTo: 1_000_000 }, carol.token);
    expect((await fetchQueue(bob)).messages.length).toBe(bobBefore);
    for (const [method, url] of [
      ['GET', '/api/v1/delivery/messages'],
      ['POST', '/api/v1/delivery/ack'],
      ['POST', `/api/v1/groups/${gid}/messages`],
      ['POST', `/api/v1/groups/${gid}/commits`],
      ['GET', `/api/v1/groups/${gid}`],
      ['POST', '/api/v1/groups'],
      ['POST', '/api/v1/delivery/tokens'],
    ] as const) {
      const res = await call(t.app, method, url, method === 'POST' ? {} : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });
});

describe('sealed sender', () => {
  it('enqueues with a delivery token, without a session, storing no sender', async () => {
    const tok = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, carol.token)).json().deliveryToken;
    const payload = toBase64Url(utf8('sealed hello'));
    const res = await call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: tok, clientMessageId: randomUUID(), payload });
    expect(res.statusCode).toBe(201);
    const q = await fetchQueue(carol);
    const m = q.messages.find((x: { payload: string }) => x.payload === payload);
    expect(m).toBeDefined();
    expect(m.senderDeviceId).toBeUndefined();
    const rows = await t.app.get(DataSource).query(`SELECT sender_device_id FROM queued_message WHERE device_id = $1 AND seq = $2`, [carol.deviceId, m.seq]);
    expect(rows).toEqual([{ sender_device_id: null }]);
    const bad = await call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: toBase64Url(new Uint8Array(32)), clientMessageId: randomUUID(), payload });
    expect(bad.statusCode).toBe(403);
    expect(bad.json().code).toBe('delivery.token_invalid');
    expect((await call(t.app, 'POST', '/api/v1/delivery/tokens/revoke', { deliveryToken: tok }, carol.token)).statusCode).toBe(204);
    const after = await call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: tok, clientMessageId: randomUUID(), payload });
    expect(after.statusCode).toBe(403);
  });
});

describe('WebSocket push', () => {
  it('sends the backlog after hello, pushes new messages, resumes from a sequence, and closes on revocation', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.getHttpServer().address() as AddressInfo).port;
    const open = async (token: string, after: number) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
      const frames: { type: string; messages?: { seq: number; payload: string }[] }[] = [];
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('message', (d) => frames.push(JSON.parse(String(d))));
      await new Promise((r) => ws.on('open', r));
      ws.send(JSON.stringify({ type: 'hello', token, after }));
      return { ws, frames, closed };
    };
    const until = async (fn: () => boolean) => {
      for (let i = 0; i < 100 && !fn(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(fn()).toBe(true);
    };
    const seqsOf = (frames: { type: string; messages?: { seq: number }[] }[]) => frames.filter((f) => f.type === 'messages').flatMap((f) => f.messages!.map((m) => m.seq));

    const backlog = (await fetchQueue(bob)).messages.map((m: { seq: number }) => m.seq);
    const c1 = await open(bob.token, 0);
    await until(() => seqsOf(c1.frames).length === backlog.length);
    expect(c1.frames[0]).toMatchObject({ type: 'ready' });
    const { group, res } = await sendApp(alice, aliceGroup, 'pushed');
    aliceGroup = group;
    // The group may hold dave too (if his add won the epoch race): take bob's own delivery.
    const pushedSeq = res.json().deliveries.find((d: { deviceId: string }) => d.deviceId === bob.deviceId).seq;
    await until(() => seqsOf(c1.frames).includes(pushedSeq));
    expect(seqsOf(c1.frames)).toEqual([...backlog, pushedSeq]);
    c1.ws.send(JSON.stringify({ type: 'ack', upTo: pushedSeq - 1 }));
    await until(() => c1.frames.some((f) => f.type === 'acked'));
    c1.ws.close();

    // Reconnect: everything after the last processed sequence, once.
    const c2 = await open(bob.token, pushedSeq - 1);
    await until(() => seqsOf(c2.frames).length === 1);
    expect(seqsOf(c2.frames)).toEqual([pushedSeq]);

    const bad = await open('x'.repeat(43), 0);
    expect(await bad.closed).toBe(4401);

    const second = await login(t.app, 'bob', bob.password);
    const c3 = await open(second.res!.json().token, 0);
    await until(() => c3.frames.some((f) => f.type === 'ready'));
    await call(t.app, 'DELETE', `/api/v1/devices/${second.res!.json().deviceId}`, undefined, bob.token);
    expect(await c3.closed).toBe(4403);
    c2.ws.close();
  });
});

describe('limits', () => {
  it('message size, queue depth and send rate each have a clear error', async () => {
    const small = await createTestApp({ MESSAGE_MAX_BYTES: '300', QUEUE_MAX_DEPTH: '2', DELIVERY_RATE_PER_MIN: '3' });
    try {
      const dora = await registerUser(small.app, 'dora');
      const tok = (await call(small.app, 'POST', '/api/v1/delivery/tokens', undefined, dora.token)).json().deliveryToken;
      const sealed = (payload: Uint8Array) => call(small.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: tok, clientMessageId: randomUUID(), payload: toBase64Url(payload) });
      const big = await sealed(new Uint8Array(301));
      expect(big.statusCode).toBe(413);
      expect(big.json()).toMatchObject({ code: 'delivery.too_large', limit: 300 });
      expect((await sealed(new Uint8Array(10))).statusCode).toBe(201);
      expect((await sealed(new Uint8Array(10))).statusCode).toBe(201);
      const full = await sealed(new Uint8Array(10));
      expect(full.statusCode).toBe(409);
      expect(full.json()).toMatchObject({ code: 'delivery.queue_full', limit: 2 });
      const rate = await sealed(new Uint8Array(10));
      expect(rate.statusCode).toBe(429);
      expect(rate.json().code).toBe('delivery.rate_limited');
    } finally {
      await small.close();
    }
  });
});
