// Authorisation matrix over every messenger route. The route list is read from the running
// application (every Nest controller's handlers), so a new route without a row here fails.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import {
  addMembers,
  createKeyPackage,
  createMlsGroup,
  encryptMessage,
  groupId as mlsGroupId,
  type MlsGroup,
  type MlsKeyPackageBundle,
  processMessage,
  toBase64Url,
  updateKeys,
  utf8,
} from '@qpc/crypto';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { call, login, registerUser, type TestUser } from './test-kit.js';

let t: TestApp;
/** The victim: owns a group (with bob), a queue with messages, key packages, a delivery token, a key backup. */
let alice: TestUser;
let bob: TestUser;
/** The attacker: a valid account of her own, member of nothing of alice's. */
let mallory: TestUser;
let gid: string;
let aliceGroup: MlsGroup;
let aliceKp: MlsKeyPackageBundle;
let aliceDeliveryToken: string;
const badTokens: Record<string, string | undefined> = {};

const kp = (u: TestUser) => createKeyPackage(utf8(u.deviceId), { signingKey: u.signing });
const get = (url: string, token?: string) => call(t.app, 'GET', url, undefined, token);
const post = (url: string, body: unknown, token?: string) => call(t.app, 'POST', url, body, token);
const seqs = async (u: TestUser) => ((await get('/api/v1/delivery/messages?limit=500', u.token)).json().messages as { seq: number; payload: string }[]).map((m) => m.seq);
const stillWorks = async (u: TestUser) => expect((await get('/api/v1/accounts/me', u.token)).json()).toMatchObject({ accountId: u.accountId, deviceId: u.deviceId });
const epoch = async () => (await get(`/api/v1/groups/${gid}`, alice.token)).json().epoch as number;

interface Row {
  /** `session`: SessionGuard must refuse every bad token with 401. `public`: reachable without a session, for the reason given. */
  auth: 'session' | 'public';
  why?: string;
  /** What mallory cannot do to alice through this route (and that alice's data is untouched). */
  probe: () => Promise<void>;
}

const MATRIX: Record<string, Row> = {
  'POST /accounts/registration/start': {
    auth: 'public',
    why: 'sign-up',
    probe: async () => {
      const r = await post('/api/v1/accounts/registration/start', { username: 'alice', registrationRequest: toBase64Url(new Uint8Array(32)) });
      expect(r.json().code).toBe('accounts.username_taken');
    },
  },
  'POST /accounts/registration/finish': {
    auth: 'public',
    why: 'sign-up',
    probe: async () => {
      // Finishing a registration under a taken name cannot replace alice's record or add a device to her account.
      const r = await post('/api/v1/accounts/registration/finish', { username: 'alice', registrationRecord: toBase64Url(new Uint8Array(192)), device: { name: 'x', signingKey: toBase64Url(mallory.signing.publicKey) } });
      expect(r.statusCode).toBe(409);
      await stillWorks(alice);
    },
  },
  'POST /sessions/start': {
    auth: 'public',
    why: 'login (unknown users get a fake response)',
    probe: async () => {
      const { res } = await login(t.app, 'alice', mallory.password);
      expect(res).toBeNull();
    },
  },
  'POST /sessions/finish': {
    auth: 'public',
    why: 'login',
    probe: async () => {
      // Her own password, alice's device id, signed with her own key: no session on alice's device.
      const { res } = await login(t.app, 'mallory', mallory.password, { kind: 'existing', deviceId: alice.deviceId, signing: mallory.signing });
      expect(res!.statusCode).toBe(403);
      expect(res!.json().code).toBe('devices.proof_invalid');
    },
  },
  'DELETE /sessions/current': {
    auth: 'session',
    probe: async () => {
      const { res } = await login(t.app, 'mallory', mallory.password, { kind: 'existing', deviceId: mallory.deviceId, signing: mallory.signing });
      const token = res!.json().token as string;
      expect((await call(t.app, 'DELETE', '/api/v1/sessions/current', undefined, token)).statusCode).toBe(204);
      expect((await get('/api/v1/accounts/me', token)).statusCode).toBe(401);
      await stillWorks(alice);
      await stillWorks(mallory);
    },
  },
  'GET /accounts/me': {
    auth: 'session',
    probe: async () => {
      expect((await get('/api/v1/accounts/me', mallory.token)).json()).toEqual({ accountId: mallory.accountId, username: 'mallory', deviceId: mallory.deviceId });
    },
  },
  'DELETE /accounts/me': {
    auth: 'session',
    probe: async () => {
      const victimsBefore = await seqs(alice);
      const doomed = await registerUser(t.app, `doomed-${randomUUID().slice(0, 8)}`);
      expect((await call(t.app, 'DELETE', '/api/v1/accounts/me', undefined, doomed.token)).statusCode).toBe(204);
      await stillWorks(alice);
      expect(await seqs(alice)).toEqual(victimsBefore);
    },
  },
  'GET /devices': {
    auth: 'session',
    probe: async () => {
      const ids = ((await get('/api/v1/devices', mallory.token)).json().devices as { deviceId: string }[]).map((d) => d.deviceId);
      expect(ids).toEqual([mallory.deviceId]);
    },
  },
  'DELETE /devices/:deviceId': {
    auth: 'session',
    probe: async () => {
      const r = await call(t.app, 'DELETE', `/api/v1/devices/${alice.deviceId}`, undefined, mallory.token);
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toBe('devices.not_found');
      await stillWorks(alice);
    },
  },
  'POST /keys/packages': {
    auth: 'session',
    probe: async () => {
      const before = (await get('/api/v1/keys/packages/status', alice.token)).json();
      // A package of alice's (signed by her key) cannot be stocked by another device.
      const r = await post('/api/v1/keys/packages', { keyPackages: [toBase64Url(aliceKp.encoded)] }, mallory.token);
      expect(r.json().code).toBe('keys.wrong_signing_key');
      expect((await get('/api/v1/keys/packages/status', alice.token)).json()).toEqual(before);
    },
  },
  'GET /keys/packages/status': {
    auth: 'session',
    probe: async () => {
      expect((await get('/api/v1/keys/packages/status', alice.token)).json().available).toBeGreaterThan(0);
      expect((await get('/api/v1/keys/packages/status', mallory.token)).json()).toMatchObject({ available: 0, lastResort: false });
    },
  },
  'POST /keys/claim': {
    auth: 'session',
    probe: async () => {
      // Claiming a user's public key packages is what an invite does; it needs a session, hands out
      // only public packages, never the caller's own device, and consumes exactly one per device.
      const before = (await get('/api/v1/keys/packages/status', alice.token)).json().available as number;
      const r = (await post('/api/v1/keys/claim', { username: 'alice' }, mallory.token)).json();
      expect(r.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([alice.deviceId]);
      expect(Object.keys(r.devices[0]).sort()).toEqual(['deviceId', 'keyPackage', 'lastResort', 'signingKey']);
      expect((await get('/api/v1/keys/packages/status', alice.token)).json().available).toBe(before - 1);
      expect((await post('/api/v1/keys/claim', { username: 'mallory' }, mallory.token)).json().devices).toEqual([]);
    },
  },
  'GET /delivery/messages': {
    auth: 'session',
    probe: async () => {
      expect((await seqs(alice)).length).toBeGreaterThan(0);
      expect(await seqs(mallory)).toEqual([]);
      // No parameter names a queue.
      const r = await get(`/api/v1/delivery/messages?deviceId=${alice.deviceId}`, mallory.token);
      expect(r.statusCode).toBe(400);
    },
  },
  'POST /delivery/ack': {
    auth: 'session',
    probe: async () => {
      const before = await seqs(alice);
      expect((await post('/api/v1/delivery/ack', { upTo: 1_000_000, deviceId: alice.deviceId }, mallory.token)).statusCode).toBe(400);
      expect((await post('/api/v1/delivery/ack', { upTo: 1_000_000 }, mallory.token)).statusCode).toBe(200);
      expect(await seqs(alice)).toEqual(before);
    },
  },
  'POST /delivery/tokens': {
    auth: 'session',
    probe: async () => {
      const tok = (await post('/api/v1/delivery/tokens', undefined, mallory.token)).json().deliveryToken as string;
      const before = await seqs(alice);
      expect((await post('/api/v1/delivery/sealed', { deliveryToken: tok, clientMessageId: randomUUID(), payload: toBase64Url(utf8('to mallory')) })).statusCode).toBe(201);
      expect(await seqs(alice)).toEqual(before);
      expect((await seqs(mallory)).length).toBe(1);
      await post('/api/v1/delivery/ack', { upTo: 1_000_000 }, mallory.token);
    },
  },
  'POST /delivery/tokens/revoke': {
    auth: 'session',
    probe: async () => {
      const r = await post('/api/v1/delivery/tokens/revoke', { deliveryToken: aliceDeliveryToken }, mallory.token);
      expect(r.statusCode).toBe(404);
      expect((await post('/api/v1/delivery/sealed', { deliveryToken: aliceDeliveryToken, clientMessageId: randomUUID(), payload: toBase64Url(utf8('still open')) })).statusCode).toBe(201);
    },
  },
  'POST /delivery/sealed': {
    auth: 'public',
    why: "sealed sender: the recipient's delivery token is the capability, no sender is known",
    probe: async () => {
      const before = await seqs(alice);
      const r = await post('/api/v1/delivery/sealed', { deliveryToken: toBase64Url(new Uint8Array(32).fill(1)), clientMessageId: randomUUID(), payload: toBase64Url(utf8('x')) });
      expect(r.statusCode).toBe(403);
      expect(await seqs(alice)).toEqual(before);
    },
  },
  'GET /delivery/receipt-key': { auth: 'public', why: 'public key', probe: async () => expect((await get('/api/v1/delivery/receipt-key')).statusCode).toBe(200) },
  'POST /groups': {
    auth: 'session',
    probe: async () => {
      const r = await post('/api/v1/groups', { groupId: gid }, mallory.token);
      expect(r.json().code).toBe('groups.exists');
      expect((await get(`/api/v1/groups/${gid}`, mallory.token)).statusCode).toBe(404);
    },
  },
  'GET /groups/:groupId': {
    auth: 'session',
    probe: async () => {
      const r = await get(`/api/v1/groups/${gid}`, mallory.token);
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toBe('groups.not_found');
    },
  },
  'POST /groups/:groupId/commits': {
    auth: 'session',
    probe: async () => {
      // Even a well-formed commit for the current epoch (replayed from a member) is refused to a non-member.
      const before = await epoch();
      const c = await updateKeys(aliceGroup);
      const r = await post(`/api/v1/groups/${gid}/commits`, { clientMessageId: randomUUID(), commit: toBase64Url(c.commit), addDevices: [], removeDevices: [alice.deviceId] }, mallory.token);
      expect(r.statusCode).toBe(404);
      expect(await epoch()).toBe(before);
      expect((await get(`/api/v1/groups/${gid}`, alice.token)).json().members).toContain(alice.deviceId);
    },
  },
  'POST /groups/:groupId/messages': {
    auth: 'session',
    probe: async () => {
      const before = await seqs(bob);
      const { message } = await encryptMessage(aliceGroup, utf8('forged'));
      const r = await post(`/api/v1/groups/${gid}/messages`, { clientMessageId: randomUUID(), message: toBase64Url(message) }, mallory.token);
      expect(r.statusCode).toBe(404);
      expect(await seqs(bob)).toEqual(before);
    },
  },
  'PUT /key-backup': {
    auth: 'session',
    probe: async () => {
      const r = await call(t.app, 'PUT', '/api/v1/key-backup', { ciphertext: toBase64Url(utf8('mallory')), version: 99 }, mallory.token);
      expect(r.statusCode).toBe(200);
      expect((await get('/api/v1/key-backup', alice.token)).json()).toEqual({ ciphertext: toBase64Url(utf8('alice backup')), version: 1 });
    },
  },
  'GET /key-backup': {
    auth: 'session',
    probe: async () => {
      const fresh = await registerUser(t.app, `nobackup-${randomUUID().slice(0, 8)}`);
      expect((await get('/api/v1/key-backup', fresh.token)).json().code).toBe('key_backup.not_found');
      expect((await get('/api/v1/key-backup', alice.token)).json().version).toBe(1);
    },
  },
  // Key transparency is public on purpose: anyone may audit the log and look up a user's device keys.
  'GET /transparency/head': { auth: 'public', why: 'KT audit', probe: async () => expect((await get('/api/v1/transparency/head')).statusCode).toBe(200) },
  'GET /transparency/key': { auth: 'public', why: 'KT audit', probe: async () => expect((await get('/api/v1/transparency/key')).statusCode).toBe(200) },
  'GET /transparency/consistency': { auth: 'public', why: 'KT audit', probe: async () => expect((await get('/api/v1/transparency/consistency?first=1&second=2')).statusCode).toBe(200) },
  'GET /transparency/inclusion': { auth: 'public', why: 'KT audit', probe: async () => expect((await get('/api/v1/transparency/inclusion?index=0&treeSize=1')).statusCode).toBe(200) },
  'GET /transparency/users/:username/devices': {
    auth: 'public',
    why: 'KT lookup of public device keys',
    probe: async () => {
      const r = (await get('/api/v1/transparency/users/alice/devices')).json();
      expect(r.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([alice.deviceId]);
      expect(JSON.stringify(r)).not.toMatch(/token|opaque|record/i);
    },
  },
};

/** Routes that belong to other features, each covered by its own suite. */
const NOT_MESSENGER = [/^GET \/(healthz|readyz|metrics)$/, /^[A-Z]+ \/fapp\//];

const METHODS: Record<number, string> = { [RequestMethod.GET]: 'GET', [RequestMethod.POST]: 'POST', [RequestMethod.PUT]: 'PUT', [RequestMethod.DELETE]: 'DELETE', [RequestMethod.PATCH]: 'PATCH' };
const join = (...parts: string[]) => `/${parts.flatMap((p) => p.split('/')).filter(Boolean).join('/')}`;

/** Every HTTP route the application's controllers declare, as `METHOD /path` (without the /api/v1 prefix). */
function appRoutes(): string[] {
  const out: string[] = [];
  for (const mod of t.app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...a: unknown[]) => unknown) | null;
      if (!ctrl) continue;
      const base = [Reflect.getMetadata(PATH_METADATA, ctrl) as string | string[]].flat()[0] ?? '';
      for (const name of Object.getOwnPropertyNames(ctrl.prototype)) {
        const fn = (ctrl.prototype as Record<string, unknown>)[name];
        if (typeof fn !== 'function' || name === 'constructor') continue;
        const path = Reflect.getMetadata(PATH_METADATA, fn) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, fn) as number | undefined;
        if (path === undefined || method === undefined) continue;
        out.push(`${METHODS[method] ?? String(method)} ${join(base, [path].flat()[0] ?? '')}`);
      }
    }
  }
  return out.sort();
}

const fill = (route: string) => route.replace(':groupId', gid).replace(':deviceId', alice.deviceId).replace(':username', 'alice');

beforeAll(async () => {
  t = await createTestApp();
  [alice, bob, mallory] = await Promise.all([registerUser(t.app, 'alice'), registerUser(t.app, 'bob'), registerUser(t.app, 'mallory')]);

  // alice: a group with bob, messages in both queues, key packages, a delivery token and a key backup.
  aliceKp = await kp(alice);
  const stock = [aliceKp, await kp(alice), await kp(alice)];
  expect((await post('/api/v1/keys/packages', { keyPackages: stock.map((b) => toBase64Url(b.encoded)) }, alice.token)).statusCode).toBe(201);
  const bobKp = await kp(bob);
  aliceGroup = await createMlsGroup(await kp(alice));
  gid = toBase64Url(mlsGroupId(aliceGroup));
  expect((await post('/api/v1/groups', { groupId: gid }, alice.token)).statusCode).toBe(201);
  const add = await addMembers(aliceGroup, [bobKp.encoded]);
  expect((await post(`/api/v1/groups/${gid}/commits`, { clientMessageId: randomUUID(), commit: toBase64Url(add.commit), welcome: toBase64Url(add.welcome!), addDevices: [bob.deviceId] }, alice.token)).statusCode).toBe(201);
  aliceGroup = (await processMessage(add.group, add.commit)).group;
  aliceDeliveryToken = (await post('/api/v1/delivery/tokens', undefined, alice.token)).json().deliveryToken;
  for (const text of ['one', 'two']) {
    expect((await post('/api/v1/delivery/sealed', { deliveryToken: aliceDeliveryToken, clientMessageId: randomUUID(), payload: toBase64Url(utf8(text)) })).statusCode).toBe(201);
  }
  expect((await call(t.app, 'PUT', '/api/v1/key-backup', { ciphertext: toBase64Url(utf8('alice backup')), version: 1 }, alice.token)).statusCode).toBe(200);

  // Tokens that must all fail: a logged-out session, a revoked device, a deleted account.
  const zoe = await registerUser(t.app, 'zoe');
  const out = (await login(t.app, 'zoe', zoe.password)).res!.json().token as string;
  await call(t.app, 'DELETE', '/api/v1/sessions/current', undefined, out);
  const second = (await login(t.app, 'zoe', zoe.password)).res!.json() as { token: string; deviceId: string };
  expect((await call(t.app, 'DELETE', `/api/v1/devices/${second.deviceId}`, undefined, zoe.token)).statusCode).toBe(204);
  const yan = await registerUser(t.app, 'yan');
  expect((await call(t.app, 'DELETE', '/api/v1/accounts/me', undefined, yan.token)).statusCode).toBe(204);
  Object.assign(badTokens, { none: undefined, malformed: 'not-a-token', unknown: toBase64Url(new Uint8Array(32).fill(9)), 'logged out': out, 'revoked device': second.token, 'deleted account': yan.token });
});
afterAll(async () => {
  await t?.close();
});

describe('authorisation matrix', () => {
  it('has exactly one row per messenger route of the running application', () => {
    const routes = appRoutes().filter((r) => !NOT_MESSENGER.some((re) => re.test(r)));
    expect(routes.length).toBeGreaterThan(20);
    expect(routes).toEqual(Object.keys(MATRIX).sort());
    for (const [route, row] of Object.entries(MATRIX)) if (row.auth === 'public') expect(row.why, route).toBeTruthy();
  });

  it.each(Object.entries(MATRIX).filter(([, r]) => r.auth === 'session'))('%s: no, unknown, logged-out, revoked-device and deleted-account tokens get 401', async (route) => {
    const [method, path] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE', string];
    for (const [kind, token] of Object.entries(badTokens)) {
      const r = await t.app.inject({
        method,
        url: `/api/v1${fill(path)}`,
        ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
      expect(r.statusCode, `${route} with ${kind} token`).toBe(401);
      expect(r.headers['content-type'], `${route} with ${kind} token`).toContain('application/problem+json');
      expect(r.json().code).toBe('auth.unauthenticated');
    }
  });

  it.each(Object.entries(MATRIX).filter(([, r]) => r.auth === 'public'))('%s is public: it answers without a session', async (route) => {
    const [method, path] = route.split(' ') as ['GET' | 'POST', string];
    const r = await t.app.inject({ method, url: `/api/v1${fill(path)}`, ...(method === 'POST' ? { payload: {} } : {}) });
    expect(r.statusCode, route).not.toBe(401);
  });

  // Sequential on purpose: later probes read the state earlier ones must have left untouched.
  for (const [route, row] of Object.entries(MATRIX)) {
    it(`${route}: mallory cannot reach alice's data`, async () => {
      await row.probe();
    });
  }

  it('the push socket refuses every bad token with 4401', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.getHttpServer().address() as AddressInfo).port;
    for (const [kind, token] of Object.entries(badTokens)) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      const frames: string[] = [];
      ws.on('message', (d) => frames.push(String(d)));
      await new Promise((r) => ws.on('open', r));
      ws.send(JSON.stringify({ type: 'hello', token, after: 0 }));
      expect(await closed, `${kind} token`).toBe(4401);
      expect(frames.filter((f) => f.includes('"messages"')), `${kind} token`).toEqual([]);
    }
  });
});
