// Group messages sent over the push socket (`send` frames): the same rules as
// POST /groups/:groupId/messages, answered on the socket, and the frame size bound.
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
  processMessage,
  sha256,
  toBase64Url,
  utf8,
  verify,
} from '@qpc/crypto';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { receiptInput } from '../delivery/receipts.js';
import { call, login, registerUser, type TestUser } from '../messenger/test-kit.js';

type Frame = { type: string; ref?: string; code?: string; [k: string]: unknown };

let t: TestApp;
let port: number;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let aliceGroup: MlsGroup;
let bobGroup: MlsGroup;
let gid: string;

const BODY_LIMIT = 64 * 1024;

/** A socket after `hello`, with every frame it received. */
async function socket(token: string): Promise<{ ws: WebSocket; frames: Frame[]; answer(ref: string): Promise<Frame>; closed: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'hello', token, after: 0 }));
  await expect.poll(() => frames.some((f) => f.type === 'ready')).toBe(true);
  const answer = async (ref: string) => {
    await expect.poll(() => frames.find((f) => f.ref === ref)).toBeDefined();
    return frames.find((f) => f.ref === ref)!;
  };
  return { ws, frames, answer, closed };
}

const sendFrame = (ws: WebSocket, frame: Record<string, unknown>) => ws.send(JSON.stringify({ type: 'send', groupId: gid, ...frame }));

beforeAll(async () => {
  t = await createTestApp({ BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.getHttpServer().address() as AddressInfo).port;
  [alice, bob, carol] = await Promise.all([registerUser(t.app, 'alice'), registerUser(t.app, 'bob'), registerUser(t.app, 'carol')]);
  aliceGroup = await createMlsGroup(await createKeyPackage(utf8(alice.deviceId), { signingKey: alice.signing }));
  gid = toBase64Url(mlsGroupId(aliceGroup));
  expect((await call(t.app, 'POST', '/api/v1/groups', { groupId: gid }, alice.token)).statusCode).toBe(201);
  const bobKp = await createKeyPackage(utf8(bob.deviceId), { signingKey: bob.signing });
  const add = await addMembers(aliceGroup, [bobKp.encoded]);
  const res = await call(t.app, 'POST', `/api/v1/groups/${gid}/commits`, { clientMessageId: randomUUID(), commit: toBase64Url(add.commit), welcome: toBase64Url(add.welcome!), addDevices: [bob.deviceId] }, alice.token);
  expect(res.statusCode).toBe(201);
  aliceGroup = (await processMessage(add.group, add.commit)).group;
  bobGroup = await joinFromWelcome(add.welcome!, bobKp);
  await call(t.app, 'POST', '/api/v1/delivery/ack', { upTo: 1 }, bob.token);
});
afterAll(async () => {
  await t?.close();
});

describe('send over the push socket', () => {
  it('delivers like POST /groups/:id/messages: pushed to the member, a verifiable receipt, idempotent by client message id', async () => {
    const a = await socket(alice.token);
    const b = await socket(bob.token);
    const { group, message } = await encryptMessage(aliceGroup, utf8('over the socket'));
    aliceGroup = group;
    const clientMessageId = randomUUID();
    sendFrame(a.ws, { ref: 'm-1', clientMessageId, message: toBase64Url(message) });
    const sent = await a.answer('m-1');
    expect(sent).toMatchObject({ type: 'sent', ref: 'm-1', duplicate: false, skipped: [] });
    const [delivery] = sent.deliveries as { deviceId: string; seq: number; receipt: { queue: string; seq: number; time: string; signature: string; messageHash: string } }[];
    expect(delivery).toMatchObject({ deviceId: bob.deviceId, seq: 2 });
    const key = fromBase64Url((await call(t.app, 'GET', '/api/v1/delivery/receipt-key')).json().publicKey);
    const r = delivery!.receipt;
    expect(r.messageHash).toBe(toBase64Url(sha256(message)));
    expect(verify(key, receiptInput(sha256(message), r.queue, r.seq, Date.parse(r.time)), fromBase64Url(r.signature))).toBe(true);

    // Bob's socket gets it pushed, and it decrypts.
    await expect.poll(() => b.frames.some((f) => f.type === 'messages')).toBe(true);
    const pushed = b.frames.find((f) => f.type === 'messages')!.messages as { seq: number; payload: string; senderDeviceId: string }[];
    expect(pushed).toEqual([expect.objectContaining({ seq: 2, senderDeviceId: alice.deviceId })]);
    const opened = await processMessage(bobGroup, fromBase64Url(pushed[0]!.payload));
    bobGroup = opened.group;
    expect(opened.kind === 'application' && fromUtf8(opened.plaintext)).toBe('over the socket');

    // The same client message id again, over the socket and over HTTP: the first result, nothing queued twice.
    sendFrame(a.ws, { ref: 'm-1-again', clientMessageId, message: toBase64Url(message) });
    expect(await a.answer('m-1-again')).toMatchObject({ type: 'sent', duplicate: true, deliveries: [expect.objectContaining({ seq: 2, receipt: r })] });
    const viaHttp = await call(t.app, 'POST', `/api/v1/groups/${gid}/messages`, { clientMessageId, message: toBase64Url(message) }, alice.token);
    expect(viaHttp.json()).toMatchObject({ duplicate: true, deliveries: [expect.objectContaining({ seq: 2 })] });
    const queue = (await call(t.app, 'GET', '/api/v1/delivery/messages?after=1', undefined, bob.token)).json().messages as unknown[];
    expect(queue).toHaveLength(1);
    a.ws.close();
    b.ws.close();
  });

  it('answers bad sends with the HTTP problem codes, each to its own ref, and keeps the socket open', async () => {
    const a = await socket(alice.token);
    const { message } = await encryptMessage(aliceGroup, utf8('not sent'));
    const good = toBase64Url(message);
    sendFrame(a.ws, { ref: 'no-id', message: good });
    sendFrame(a.ws, { ref: 'bad-b64', clientMessageId: randomUUID(), message: 'not base64url!' });
    sendFrame(a.ws, { ref: 'no-group', groupId: undefined, clientMessageId: randomUUID(), message: good });
    sendFrame(a.ws, { ref: 'other-group', groupId: toBase64Url(utf8('another group')), clientMessageId: randomUUID(), message: good });
    sendFrame(a.ws, { ref: 'garbage', clientMessageId: randomUUID(), message: toBase64Url(utf8('no MLS here')) });
    const no = await a.answer('no-id');
    expect(no).toMatchObject({ type: 'error', code: 'request.invalid', problem: { status: 400, code: 'request.invalid' } });
    expect(JSON.stringify(no.problem)).toContain('clientMessageId');
    expect(await a.answer('bad-b64')).toMatchObject({ type: 'error', code: 'request.invalid' });
    expect(await a.answer('no-group')).toMatchObject({ type: 'error', code: 'request.invalid' });
    expect(await a.answer('other-group')).toMatchObject({ type: 'error', code: 'groups.wrong_group', problem: { status: 400 } });
    expect((await a.answer('garbage')).type).toBe('error');
    // A ref that is missing or too long gets an error without one; the socket stays usable.
    sendFrame(a.ws, { clientMessageId: randomUUID(), message: good });
    sendFrame(a.ws, { ref: 'x'.repeat(65), clientMessageId: randomUUID(), message: good });
    await expect.poll(() => a.frames.filter((f) => f.type === 'error' && f.code === 'ws.invalid_ref').length).toBe(2);
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
    // Nothing of it reached Bob's queue.
    expect((await call(t.app, 'GET', '/api/v1/delivery/messages?after=2', undefined, bob.token)).json().messages).toEqual([]);
    a.ws.close();
  });

  it('a device outside the group gets 404 groups.not_found; a send before hello is refused', async () => {
    const c = await socket(carol.token);
    const { message } = await encryptMessage(aliceGroup, utf8('carol is no member'));
    sendFrame(c.ws, { ref: 'c', clientMessageId: randomUUID(), message: toBase64Url(message) });
    expect(await c.answer('c')).toMatchObject({ type: 'error', code: 'groups.not_found', problem: { status: 404 } });
    c.ws.close();

    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
    const frames: Frame[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
    await new Promise((r) => ws.once('open', r));
    sendFrame(ws, { ref: 'early', clientMessageId: randomUUID(), message: toBase64Url(message) });
    await expect.poll(() => frames[0]).toMatchObject({ type: 'error', code: 'auth.unauthenticated' });
    ws.close();
  });

  it('after logout the next send is refused and the socket closes 4401', async () => {
    const second = await login(t.app, 'alice', 'pw-alice', { kind: 'existing', deviceId: alice.deviceId, signing: alice.signing });
    const token = second.res!.json().token as string;
    const a = await socket(token);
    expect((await call(t.app, 'DELETE', '/api/v1/sessions/current', undefined, token)).statusCode).toBe(204);
    const { message } = await encryptMessage(aliceGroup, utf8('after logout'));
    sendFrame(a.ws, { ref: 'late', clientMessageId: randomUUID(), message: toBase64Url(message) });
    expect(await a.closed).toBe(4401);
    expect(a.frames.find((f) => f.ref === 'late')).toBeUndefined();
  });

  it('a frame larger than BODY_LIMIT_BYTES closes the socket with 1009 and is not read', async () => {
    const a = await socket(alice.token);
    a.ws.send(JSON.stringify({ type: 'send', ref: 'big', groupId: gid, clientMessageId: randomUUID(), message: 'A'.repeat(BODY_LIMIT) }));
    expect(await a.closed).toBe(1009);
    expect(a.frames.find((f) => f.ref === 'big')).toBeUndefined();
  });

  it('a device may ack and send the moment it sees ready, while its backlog is still being read', async () => {
    // A backlog for Carol that takes the socket a while to read after `ready`.
    const deliveryToken = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, carol.token)).json().deliveryToken as string;
    for (let i = 0; i < 300; i += 20) {
      const batch = Array.from({ length: 20 }, (_, k) => call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken, clientMessageId: randomUUID(), payload: toBase64Url(utf8(`backlog ${i + k}`)) }));
      expect((await Promise.all(batch)).map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
    const frames: Frame[] = [];
    ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      frames.push(f);
      if (f.type === 'ready') {
        ws.send(JSON.stringify({ type: 'ack', upTo: 0 }));
        sendFrame(ws, { ref: 'early-send', clientMessageId: randomUUID(), message: toBase64Url(utf8('not MLS')) });
      }
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'hello', token: carol.token, after: 0 }));
    await expect.poll(() => frames.some((f) => f.type === 'acked') && frames.some((f) => f.ref === 'early-send')).toBe(true);
    // Answered as the device's frames, not refused as coming before authentication.
    expect(frames.filter((f) => f.code === 'auth.unauthenticated')).toEqual([]);
    expect(frames.find((f) => f.ref === 'early-send')!.code).not.toBe('auth.unauthenticated');
    await expect.poll(() => frames.flatMap((f) => (f.type === 'messages' ? (f.messages as unknown[]) : [])).length).toBe(300);
    ws.close();
  });

  it('an ack with reply: false deletes as any ack and is not answered', async () => {
    const dora = await registerUser(t.app, 'dora');
    const deliveryToken = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, dora.token)).json().deliveryToken as string;
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken, clientMessageId: randomUUID(), payload: toBase64Url(utf8(`quiet ${i}`)) });
      seqs.push(res.json().deliveries[0].seq as number);
    }
    const c = await socket(dora.token);
    await expect.poll(() => c.frames.flatMap((f) => (f.type === 'messages' ? (f.messages as { seq: number }[]) : [])).map((m) => m.seq)).toEqual(expect.arrayContaining(seqs));
    c.ws.send(JSON.stringify({ type: 'ack', upTo: seqs[1], reply: false }));
    // Acks are applied in the order they arrive: once this one is answered, the first one has committed.
    c.ws.send(JSON.stringify({ type: 'ack', upTo: seqs[1] }));
    await expect.poll(() => c.frames.some((f) => f.type === 'acked')).toBe(true);
    expect(c.frames.filter((f) => f.type === 'acked')).toEqual([{ type: 'acked', upTo: seqs[1], depth: 1 }]);
    const left = (await call(t.app, 'GET', `/api/v1/delivery/messages?after=0`, undefined, dora.token)).json().messages as { seq: number }[];
    expect(left.map((m) => m.seq)).toEqual([seqs[2]]);
    c.ws.close();
  });

  it('a second hello on one socket is ignored, also while the first is still resolving', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
    const frames: Frame[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'hello', token: alice.token, after: 0 }));
    ws.send(JSON.stringify({ type: 'hello', token: bob.token, after: 0 }));
    await expect.poll(() => frames.some((f) => f.type === 'ready')).toBe(true);
    // Round trip on the same socket, so anything the second hello caused would have arrived.
    ws.send(JSON.stringify({ type: 'ack', upTo: 0 }));
    await expect.poll(() => frames.some((f) => f.type === 'acked')).toBe(true);
    expect(frames.filter((f) => f.type === 'ready')).toHaveLength(1);
    ws.close();
  });
});

