// The push socket never sends past a hole in the sequence: a client acks "up to", so a skipped
// message would be deleted unseen. An event that does not continue the sequence (events crossing
// between instances, a lost NATS message) makes the socket re-read its queue instead.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { toBase64Url, utf8 } from '@qpc/crypto';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { MessengerEvents } from '../messenger/messenger-events.js';
import { call, registerUser, type TestUser } from '../messenger/test-kit.js';

let t: TestApp;
let bob: TestUser;
let port: number;
let tok: string;

const sealed = async (text: string) => {
  const r = await call(t.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: tok, clientMessageId: randomUUID(), payload: toBase64Url(utf8(text)) });
  expect(r.statusCode).toBe(201);
  return r.json().deliveries[0].seq as number;
};

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.getHttpServer().address() as AddressInfo).port;
  bob = await registerUser(t.app, 'bob');
  tok = (await call(t.app, 'POST', '/api/v1/delivery/tokens', undefined, bob.token)).json().deliveryToken;
});
afterAll(async () => {
  await t?.close();
});

describe('push order', () => {
  it('an event past a hole is not sent; the socket re-reads its queue and stays in order', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
    const frames: { type: string; messages?: { seq: number; payload: string }[] }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'hello', token: bob.token, after: 0 }));
    await expect.poll(() => frames.some((f) => f.type === 'ready')).toBe(true);
    const seqs = () => frames.flatMap((f) => (f.type === 'messages' ? f.messages!.map((m) => m.seq) : []));

    const first = await sealed('one');
    await expect.poll(seqs).toEqual([first]);
    const events = t.app.get(MessengerEvents);
    // A forged event three ahead (no such row) and a repeat of an old one.
    events.messages(bob.deviceId, [{ seq: first + 3, payload: 'bm90IHJlYWw', enqueuedAt: new Date().toISOString() }]);
    events.messages(bob.deviceId, [{ seq: first, payload: 'b2xk', enqueuedAt: new Date().toISOString() }]);
    const second = await sealed('two');
    const third = await sealed('three');
    await expect.poll(seqs).toEqual([first, second, third]);
    expect(frames.flatMap((f) => (f.type === 'messages' ? f.messages!.map((m) => m.payload) : []))).toEqual(['one', 'two', 'three'].map((x) => toBase64Url(utf8(x))));
    ws.close();
  });
});
