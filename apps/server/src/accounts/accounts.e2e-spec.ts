import * as opaque from '@serenity-kit/opaque';
import { generateSigningKeyPair, toBase64Url } from '@qpc/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { call, login, registerUser, TEST_STRETCHING, type TestUser } from '../messenger/test-kit.js';

let t: TestApp;
let alice: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  alice = await registerUser(t.app, 'alice');
});
afterAll(async () => {
  await t?.close();
});

describe('OPAQUE registration and login', () => {
  it('registration returns a session bound to the first device; the password never reaches the server', async () => {
    const me = await call(t.app, 'GET', '/api/v1/accounts/me', undefined, alice.token);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ accountId: alice.accountId, username: 'alice', deviceId: alice.deviceId });
    expect(t.rawLogs()).not.toContain(alice.password);
  });

  it('a taken username is a 409', async () => {
    const { registrationRequest } = opaque.client.startRegistration({ password: 'x' });
    const res = await call(t.app, 'POST', '/api/v1/accounts/registration/start', { username: 'alice', registrationRequest });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('accounts.username_taken');
  });

  it('login with the right password gives a working token for a new device', async () => {
    const { res } = await login(t.app, 'alice', alice.password);
    expect(res!.statusCode).toBe(200);
    const g = res!.json();
    expect(g.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await call(t.app, 'GET', '/api/v1/accounts/me', undefined, g.token);
    expect(me.json().deviceId).toBe(g.deviceId);
    expect(g.deviceId).not.toBe(alice.deviceId);
  });

  it('login to an existing device needs a signature by its key', async () => {
    const ok = await login(t.app, 'alice', alice.password, { kind: 'existing', deviceId: alice.deviceId, signing: alice.signing });
    expect(ok.res!.statusCode).toBe(200);
    expect(ok.res!.json().deviceId).toBe(alice.deviceId);
    const bad = await login(t.app, 'alice', alice.password, { kind: 'existing', deviceId: alice.deviceId, signing: generateSigningKeyPair() });
    expect(bad.res!.statusCode).toBe(403);
    expect(bad.res!.json().code).toBe('devices.proof_invalid');
  });

  it('a wrong password fails on the client, and a forged finish is a 401', async () => {
    const { res, start } = await login(t.app, 'alice', 'wrong password');
    expect(res).toBeNull();
    const forged = await call(t.app, 'POST', '/api/v1/sessions/finish', {
      loginId: start.json().loginId,
      finishLoginRequest: toBase64Url(new Uint8Array(64)),
      device: { name: 'x', signingKey: toBase64Url(generateSigningKeyPair().publicKey) },
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('auth.invalid_credentials');
  });

  it('a login id is single use', async () => {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: alice.password });
    const start = (await call(t.app, 'POST', '/api/v1/sessions/start', { username: 'alice', startLoginRequest })).json();
    const fin = opaque.client.finishLogin({ clientLoginState, loginResponse: start.loginResponse, password: alice.password, keyStretching: TEST_STRETCHING })!;
    const body = { loginId: start.loginId, finishLoginRequest: fin.finishLoginRequest, device: { name: 'x', signingKey: toBase64Url(generateSigningKeyPair().publicKey) } };
    expect((await call(t.app, 'POST', '/api/v1/sessions/finish', body)).statusCode).toBe(200);
    body.device.signingKey = toBase64Url(generateSigningKeyPair().publicKey);
    const again = await call(t.app, 'POST', '/api/v1/sessions/finish', body);
    expect(again.statusCode).toBe(401);
  });

  it('unknown users get a response of the same status, size and shape as real ones', async () => {
    await opaque.ready;
    const shape = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v.length : typeof v]));
    const req = () => opaque.client.startLogin({ password: 'whatever' }).startLoginRequest;
    const real = await call(t.app, 'POST', '/api/v1/sessions/start', { username: 'alice', startLoginRequest: req() });
    const fake = await call(t.app, 'POST', '/api/v1/sessions/start', { username: 'nobody-here', startLoginRequest: req() });
    expect(fake.statusCode).toBe(real.statusCode);
    expect(fake.body.length).toBe(real.body.length);
    expect(fake.headers['content-type']).toBe(real.headers['content-type']);
    expect(shape(fake.json())).toEqual(shape(real.json()));
    // The fake response is stable per username (derived from the server setup), like a real record.
    const fake2 = await call(t.app, 'POST', '/api/v1/sessions/start', { username: 'nobody-here', startLoginRequest: req() });
    expect(fake2.statusCode).toBe(200);
    // And finishing it fails exactly like a wrong password.
    const { res } = await login(t.app, 'nobody-here', 'whatever');
    expect(res).toBeNull();
  });

  it('requests without a valid token are 401 problems', async () => {
    for (const token of [undefined, 'x'.repeat(43), 'not a token']) {
      const res = await call(t.app, 'GET', '/api/v1/accounts/me', undefined, token);
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('auth.unauthenticated');
    }
  });

  it('logout ends the session', async () => {
    const { res } = await login(t.app, 'alice', alice.password);
    const token = res!.json().token;
    expect((await call(t.app, 'DELETE', '/api/v1/sessions/current', undefined, token)).statusCode).toBe(204);
    expect((await call(t.app, 'GET', '/api/v1/accounts/me', undefined, token)).statusCode).toBe(401);
  });
});

describe('devices', () => {
  it('at most five devices; the sixth is a 409 devices.limit_reached; revoking frees a place and kills its token at once', async () => {
    const bob = await registerUser(t.app, 'bob');
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { res } = await login(t.app, 'bob', bob.password, { kind: 'new', name: `d${i}` });
      expect(res!.statusCode).toBe(200);
      tokens.push(res!.json().token);
    }
    const sixth = await login(t.app, 'bob', bob.password);
    expect(sixth.res!.statusCode).toBe(409);
    expect(sixth.res!.json()).toMatchObject({ code: 'devices.limit_reached', limit: 5 });

    const list = (await call(t.app, 'GET', '/api/v1/devices', undefined, bob.token)).json().devices;
    expect(list).toHaveLength(5);
    const victim = list.find((d: { name: string }) => d.name === 'd0');
    expect((await call(t.app, 'GET', '/api/v1/accounts/me', undefined, tokens[0])).statusCode).toBe(200);
    expect((await call(t.app, 'DELETE', `/api/v1/devices/${victim.deviceId}`, undefined, bob.token)).statusCode).toBe(204);
    const after = await call(t.app, 'GET', '/api/v1/accounts/me', undefined, tokens[0]);
    expect(after.statusCode).toBe(401);
    expect((await login(t.app, 'bob', bob.password)).res!.statusCode).toBe(200);
    const again = await call(t.app, 'DELETE', `/api/v1/devices/${victim.deviceId}`, undefined, bob.token);
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('devices.not_found');
  });

  it("a user cannot revoke another user's device", async () => {
    const carol = await registerUser(t.app, 'carol');
    const res = await call(t.app, 'DELETE', `/api/v1/devices/${alice.deviceId}`, undefined, carol.token);
    expect(res.statusCode).toBe(404);
    expect((await call(t.app, 'GET', '/api/v1/accounts/me', undefined, alice.token)).statusCode).toBe(200);
  });

  it('concurrent logins cannot exceed five devices', async () => {
    const dave = await registerUser(t.app, 'dave');
    const results = await Promise.all(Array.from({ length: 7 }, () => login(t.app, 'dave', dave.password)));
    const codes = results.map((r) => r.res!.statusCode).sort();
    expect(codes.filter((c) => c === 200)).toHaveLength(4);
    expect(codes.filter((c) => c === 409)).toHaveLength(3);
  });
});

describe('account deletion', () => {
  it('removes the account and everything of it', async () => {
    const erin = await registerUser(t.app, 'erin');
    expect((await call(t.app, 'DELETE', '/api/v1/accounts/me', undefined, erin.token)).statusCode).toBe(204);
    expect((await call(t.app, 'GET', '/api/v1/accounts/me', undefined, erin.token)).statusCode).toBe(401);
    const { res } = await login(t.app, 'erin', erin.password);
    expect(res).toBeNull();
    const db = await t.app.get((await import('typeorm')).DataSource).query(`SELECT (SELECT count(*) FROM device WHERE account_id = $1)::int AS d, (SELECT count(*) FROM session WHERE account_id = $1)::int AS s`, [erin.accountId]);
    expect(db[0]).toEqual({ d: 0, s: 0 });
    // The username is free again.
    await registerUser(t.app, 'erin');
  });
});

describe('online guessing', () => {
  it('login attempts are limited per username, for unknown usernames alike', async () => {
    const small = await createTestApp({ LOGIN_RATE_PER_MIN: '2' });
    try {
      await opaque.ready;
      const attempt = (username: string) => call(small.app, 'POST', '/api/v1/sessions/start', { username, startLoginRequest: opaque.client.startLogin({ password: 'guess' }).startLoginRequest });
      await registerUser(small.app, 'frank');
      for (const username of ['frank', 'nobody-at-all']) {
        expect((await attempt(username)).statusCode).toBe(200);
        expect((await attempt(username)).statusCode).toBe(200);
        const third = await attempt(username);
        expect(third.statusCode).toBe(429);
        expect(third.json().code).toBe('auth.rate_limited');
      }
    } finally {
      await small.close();
    }
  });
});
