import { toBase64Url } from '@qpc/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { call, login, registerUser, type TestUser } from '../messenger/test-kit.js';

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  alice = await registerUser(t.app, 'alice');
  bob = await registerUser(t.app, 'bob');
});
afterAll(async () => {
  await t?.close();
});

const blob = (fill: number, n = 100) => toBase64Url(new Uint8Array(n).fill(fill));
const put = (token: string | undefined, body: Record<string, unknown>) => call(t.app, 'PUT', '/api/v1/key-backup', body, token);
const get = (token: string | undefined) => call(t.app, 'GET', '/api/v1/key-backup', undefined, token);

describe('key backup', () => {
  it('needs a session', async () => {
    expect((await get(undefined)).statusCode).toBe(401);
    const res = await put(undefined, { ciphertext: blob(1), version: 1 });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('auth.unauthenticated');
  });

  it('is 404 before the first write', async () => {
    const res = await get(alice.token);
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('key_backup.not_found');
  });

  it('stores and returns the ciphertext unchanged, per account, readable from another device', async () => {
    const created = await put(alice.token, { ciphertext: blob(7), version: 1, ifVersion: 0 });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toEqual({ version: 1 });
    const { res } = await login(t.app, 'alice', alice.password);
    const other = res!.json().token as string;
    expect((await get(other)).json()).toEqual({ ciphertext: blob(7), version: 1 });
    expect((await get(bob.token)).statusCode).toBe(404);
  });

  it('ifVersion is a compare-and-swap; the loser learns the current version', async () => {
    const ok = await put(alice.token, { ciphertext: blob(8), version: 2, ifVersion: 1 });
    expect(ok.statusCode).toBe(200);
    const stale = await put(alice.token, { ciphertext: blob(9), version: 2, ifVersion: 1 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'key_backup.version_conflict', currentVersion: 2 });
    const recreate = await put(alice.token, { ciphertext: blob(9), version: 5, ifVersion: 0 });
    expect(recreate.statusCode).toBe(409);
    expect((await get(alice.token)).json()).toEqual({ ciphertext: blob(8), version: 2 });
  });

  it('of two racing writers with the same ifVersion exactly one wins', async () => {
    const results = await Promise.all([10, 11, 12, 13].map((f) => put(alice.token, { ciphertext: blob(f), version: 3, ifVersion: 2 })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409]);
    expect((await get(alice.token)).json().version).toBe(3);
  });

  it('without ifVersion only a higher version replaces the stored one', async () => {
    expect((await put(alice.token, { ciphertext: blob(20), version: 3 })).statusCode).toBe(409);
    expect((await put(alice.token, { ciphertext: blob(21), version: 9 })).statusCode).toBe(200);
    expect((await get(alice.token)).json()).toEqual({ ciphertext: blob(21), version: 9 });
  });

  it('rejects oversized, empty, malformed and inconsistent bodies', async () => {
    const big = await put(bob.token, { ciphertext: blob(1, 64 * 1024 + 1), version: 1 });
    expect(big.statusCode).toBe(400);
    expect((await put(bob.token, { ciphertext: blob(1, 64 * 1024), version: 1 })).statusCode).toBe(200);
    expect((await put(bob.token, { ciphertext: 'not base64url!', version: 2 })).json().code).toBe('request.invalid');
    expect((await put(bob.token, { ciphertext: blob(1), version: 0 })).statusCode).toBe(400);
    expect((await put(bob.token, { ciphertext: blob(1), version: 1.5 })).statusCode).toBe(400);
    expect((await put(bob.token, { ciphertext: blob(1), version: 2, ifVersion: 2 })).statusCode).toBe(400);
    expect((await put(bob.token, { ciphertext: blob(1), version: 2, extra: 1 })).statusCode).toBe(400);
  });

  it('goes with the account', async () => {
    expect((await call(t.app, 'DELETE', '/api/v1/accounts/me', undefined, bob.token)).statusCode).toBe(204);
    const rows: unknown[] = await t.app.get((await import('typeorm')).DataSource).query(`SELECT 1 FROM key_backup`);
    expect(rows).toHaveLength(1);
  });
});
