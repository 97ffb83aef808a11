import { createKeyPackage, type MlsKeyPackageBundle, toBase64Url, utf8 } from '@qpc/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { call, registerUser, type TestUser } from '../messenger/test-kit.js';

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
const kp = (u: TestUser): Promise<MlsKeyPackageBundle> => createKeyPackage(utf8(u.deviceId), { signingKey: u.signing });

beforeAll(async () => {
  t = await createTestApp({ KEY_PACKAGE_MAX: '20', KEY_PACKAGE_LOW_WATER: '3' });
  [alice, bob] = await Promise.all([registerUser(t.app, 'alice'), registerUser(t.app, 'bob')]);
});
afterAll(async () => {
  await t?.close();
});

describe('key packages', () => {
  it('upload reports the stock with a low-stock signal', async () => {
    const status0 = await call(t.app, 'GET', '/api/v1/keys/packages/status', undefined, bob.token);
    expect(status0.json()).toEqual({ available: 0, lastResort: false, low: true, lowWater: 3 });
    const packs = await Promise.all(Array.from({ length: 10 }, () => kp(bob)));
    const res = await call(t.app, 'POST', '/api/v1/keys/packages', { keyPackages: packs.map((p) => toBase64Url(p.encoded)), lastResort: toBase64Url((await kp(bob)).encoded) }, bob.token);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ available: 10, lastResort: true, low: false, lowWater: 3 });
  });

  it('rejects packages signed by another key, garbage, and overstock', async () => {
    const foreign = await kp(alice);
    const wrong = await call(t.app, 'POST', '/api/v1/keys/packages', { keyPackages: [toBase64Url(foreign.encoded)] }, bob.token);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('keys.wrong_signing_key');
    const junk = await call(t.app, 'POST', '/api/v1/keys/packages', { keyPackages: ['AAAA'] }, bob.token);
    expect(junk.json().code).toBe('keys.malformed');
    const many = await Promise.all(Array.from({ length: 11 }, () => kp(bob)));
    const over = await call(t.app, 'POST', '/api/v1/keys/packages', { keyPackages: many.map((p) => toBase64Url(p.encoded)) }, bob.token);
    expect(over.statusCode).toBe(409);
    expect(over.json().code).toBe('keys.too_many');
  });

  it('parallel claims never hand out a one-time package twice; then the last resort is returned', async () => {
    const results = await Promise.all(Array.from({ length: 16 }, () => call(t.app, 'POST', '/api/v1/keys/claim', { username: 'bob' }, alice.token)));
    const devices = results.map((r) => {
      expect(r.statusCode).toBe(200);
      return r.json().devices[0] as { deviceId: string; keyPackage: string; lastResort: boolean };
    });
    const oneTime = devices.filter((d) => !d.lastResort).map((d) => d.keyPackage);
    expect(oneTime).toHaveLength(10);
    expect(new Set(oneTime).size).toBe(10);
    const lr = devices.filter((d) => d.lastResort);
    expect(lr).toHaveLength(6);
    expect(new Set(lr.map((d) => d.keyPackage)).size).toBe(1);
    expect(devices.every((d) => d.deviceId === bob.deviceId)).toBe(true);
    const status = await call(t.app, 'GET', '/api/v1/keys/packages/status', undefined, bob.token);
    expect(status.json()).toMatchObject({ available: 0, lastResort: true, low: true });
  });

  it('a device with no packages at all is listed with keyPackage null; unknown users are 404', async () => {
    const res = await call(t.app, 'POST', '/api/v1/keys/claim', { username: 'alice' }, bob.token);
    expect(res.json().devices).toEqual([{ deviceId: alice.deviceId, signingKey: toBase64Url(alice.signing.publicKey), keyPackage: null, lastResort: false }]);
    const none = await call(t.app, 'POST', '/api/v1/keys/claim', { username: 'nobody' }, bob.token);
    expect(none.statusCode).toBe(404);
    expect(none.json().code).toBe('accounts.not_found');
  });

  it('needs a session', async () => {
    expect((await call(t.app, 'POST', '/api/v1/keys/claim', { username: 'bob' })).statusCode).toBe(401);
    expect((await call(t.app, 'POST', '/api/v1/keys/packages', { keyPackages: [] })).statusCode).toBe(401);
  });
});
