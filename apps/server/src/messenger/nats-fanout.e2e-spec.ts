// Two server instances on one database, joined by NATS: pushes, long-polls and revocations cross
// from the instance that wrote to the instance that holds the connection.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import * as opaque from '@serenity-kit/opaque';
import { toBase64Url, toHex, utf8 } from '@qpc/crypto';
import { connect, type NatsConnection } from 'nats';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { createApp } from '../app.js';
import { createLogger } from '../common/logger.js';
import { loadConfig } from '../config/config.js';
import { MessengerEvents, NATS_SUBJECT_PREFIX } from './messenger-events.js';
import { SessionStore } from './session.guard.js';
import { call, login, registerUser, type TestUser } from './test-kit.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** Instances of one deployment share the server secrets. */
let shared: Record<string, string>;

let a: TestApp;
let b: NestFastifyApplication;
let portB: number;
let alice: TestUser;
let bob: TestUser;
let spy: NatsConnection;
const subjects: string[] = [];

interface Frame {
  type: string;
  messages?: { seq: number; payload: string }[];
}

async function openSocket(port: number, token: string, after = 0) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
  const frames: Frame[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  await new Promise((r) => ws.on('open', r));
  ws.send(JSON.stringify({ type: 'hello', token, after }));
  await expect.poll(() => frames.some((f) => f.type === 'ready')).toBe(true);
  return { ws, frames, closed, payloads: () => frames.flatMap((f) => (f.type === 'messages' ? f.messages!.map((m) => m.payload) : [])), seqs: () => frames.flatMap((f) => (f.type === 'messages' ? f.messages!.map((m) => m.seq) : [])) };
}

const sealed = async (app: NestFastifyApplication, deliveryToken: string, text: string) => {
  const r = await call(app, 'POST', '/api/v1/delivery/sealed', { deliveryToken, clientMessageId: randomUUID(), payload: toBase64Url(utf8(text)) });
  expect(r.statusCode).toBe(201);
  return r.json().deliveries[0].seq as number;
};

beforeAll(async () => {
  await opaque.ready;
  shared = { NATS_URL, MESSAGE_MAX_BYTES: String(2 * 1024 * 1024), BODY_LIMIT_BYTES: String(4 * 1024 * 1024), SERVER_SIGNING_KEY: toHex(randomBytes(32)), OPAQUE_SERVER_SETUP: opaque.server.createSetup() };
  spy = await connect({ servers: NATS_URL });
  spy.subscribe(`${NATS_SUBJECT_PREFIX}>`, { callback: (_e, m) => subjects.push(m.subject) });
  await spy.flush();
  a = await createTestApp(shared);
  // Instance B: the same database, its own process state and its own NATS connection.
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DB_POOL_SIZE: '4', ...shared });
  b = (await createApp({ config, databaseUrl: a.db.url, logger: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })) })).app;
  await b.listen({ port: 0, host: '127.0.0.1' });
  portB = (b.getHttpServer().address() as AddressInfo).port;
  [alice, bob] = await Promise.all([registerUser(a.app, 'alice'), registerUser(a.app, 'bob')]);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await spy?.drain();
});

describe('NATS fan-out between instances', () => {
  it('both instances publish over NATS', () => {
    expect(a.app.get(MessengerEvents).distributed).toBe(true);
    expect(b.get(MessengerEvents).distributed).toBe(true);
  });

  it('a message enqueued on A is pushed to a WebSocket connected to B, in order, once', async () => {
    const tok = (await call(a.app, 'POST', '/api/v1/delivery/tokens', undefined, bob.token)).json().deliveryToken as string;
    const early = await sealed(a.app, tok, 'before connect');
    const s = await openSocket(portB, bob.token);
    await expect.poll(() => s.seqs()).toEqual([early]);
    const live: number[] = [];
    for (const text of ['live 1', 'live 2', 'live 3']) live.push(await sealed(a.app, tok, text));
    await expect.poll(() => s.seqs()).toEqual([early, ...live]);
    expect(s.payloads().slice(1)).toEqual(['live 1', 'live 2', 'live 3'].map((x) => toBase64Url(utf8(x))));
    // Acked on B, deleted for A too.
    s.ws.send(JSON.stringify({ type: 'ack', upTo: live[2] }));
    await expect.poll(() => s.frames.some((f) => f.type === 'acked')).toBe(true);
    expect((await call(a.app, 'GET', '/api/v1/delivery/messages', undefined, bob.token)).json().messages).toEqual([]);
    s.ws.close();
  });

  it('a message too large for one NATS frame still reaches B: the frame says "look in the database"', async () => {
    const tok = (await call(a.app, 'POST', '/api/v1/delivery/tokens', undefined, bob.token)).json().deliveryToken as string;
    const next = (await call(a.app, 'GET', '/api/v1/delivery/messages', undefined, bob.token)).json().nextSeq as number;
    const s = await openSocket(portB, bob.token, next - 1);
    const big = new Uint8Array(1024 * 1024).fill(7);
    const r = await call(a.app, 'POST', '/api/v1/delivery/sealed', { deliveryToken: tok, clientMessageId: randomUUID(), payload: toBase64Url(big) });
    expect(r.statusCode).toBe(201);
    const small = await sealed(a.app, tok, 'after the big one');
    await expect.poll(() => s.seqs()).toEqual([next, small]);
    expect(s.payloads()[0]).toBe(toBase64Url(big));
    s.ws.close();
  });

  it('a long-poll waiting on B returns when A enqueues', async () => {
    const tok = (await call(a.app, 'POST', '/api/v1/delivery/tokens', undefined, alice.token)).json().deliveryToken as string;
    const next = (await call(b, 'GET', '/api/v1/delivery/messages', undefined, alice.token)).json().nextSeq as number;
    const poll = call(b, 'GET', `/api/v1/delivery/messages?after=${next - 1}&waitMs=30000`, undefined, alice.token);
    // The poll is subscribed (on NATS too) once B holds a listener for alice's device.
    await expect.poll(() => b.get(MessengerEvents).listening(alice.deviceId)).toBe(true);
    await b.get(MessengerEvents).settled();
    const seq = await sealed(a.app, tok, 'wake up on B');
    const res = (await poll).json();
    expect(res.messages.map((m: { seq: number }) => m.seq)).toEqual([seq]);
  });

  it('revoking a device on A closes its socket on B with 4403', async () => {
    // Logged in on B: both instances share the OPAQUE setup.
    const second = (await login(b, 'bob', bob.password)).res!.json() as { token: string; deviceId: string };
    const s = await openSocket(portB, second.token);
    expect((await call(a.app, 'DELETE', `/api/v1/devices/${second.deviceId}`, undefined, bob.token)).statusCode).toBe(204);
    expect(await s.closed).toBe(4403);
  });

  it('a session cached on B fails on B at once when its device is revoked, or it logs out, on A', async () => {
    const me = async (app: NestFastifyApplication, token: string) => (await call(app, 'GET', '/api/v1/accounts/me', undefined, token)).statusCode;
    const revoked = (await login(b, 'alice', alice.password)).res!.json() as { token: string; deviceId: string };
    const out = (await login(b, 'alice', alice.password)).res!.json() as { token: string; deviceId: string };
    for (const token of [revoked.token, out.token]) {
      expect(await me(b, token)).toBe(200);
      expect(await me(b, token)).toBe(200);
    }
    expect((await call(a.app, 'DELETE', `/api/v1/devices/${revoked.deviceId}`, undefined, alice.token)).statusCode).toBe(204);
    expect((await call(a.app, 'DELETE', '/api/v1/sessions/current', undefined, out.token)).statusCode).toBe(204);
    // A answered after the NATS server had the end; B has it once its own connection is flushed.
    await b.get(MessengerEvents).settled();
    expect(await me(b, revoked.token)).toBe(401);
    expect(await me(b, out.token)).toBe(401);
    expect(await me(b, alice.token)).toBe(200);
  });

  it('B empties its session cache when its NATS connection drops, uses none while it is down, and caches again once it is back', async () => {
    const events = b.get(MessengerEvents);
    const store = b.get(SessionStore);
    const me = async () => (await call(b, 'GET', '/api/v1/accounts/me', undefined, alice.token)).statusCode;
    expect(await me()).toBe(200);
    expect(store.size).toBeGreaterThan(0);
    const usableAtDrop: boolean[] = [];
    const dropped = new Promise<void>((resolve) => {
      const off = events.onSessionsEnded((ids) => {
        if (ids !== null) return;
        usableAtDrop.push(events.sessionCacheUsable);
        if (usableAtDrop.length === 2) {
          off();
          resolve();
        }
      });
    });
    // A forced reconnect: the client reports the disconnect, then the reconnect.
    await (events as unknown as { nc: NatsConnection }).nc.reconnect();
    await dropped;
    expect(usableAtDrop[0]).toBe(false);
    expect(store.size).toBe(0);
    await expect.poll(() => events.sessionCacheUsable).toBe(true);
    expect(await me()).toBe(200);
    expect(store.size).toBeGreaterThan(0);
  });

  it('subjects carry opaque device ids only, never a user name', () => {
    expect(subjects.length).toBeGreaterThan(0);
    for (const s of subjects) expect(s).toMatch(/^qpc\.dev\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(subjects.join(' ')).not.toMatch(/alice|bob/);
  });
});
