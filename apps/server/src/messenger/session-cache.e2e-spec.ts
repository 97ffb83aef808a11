// Session lookups are cached in memory; an ended session (logout, revoked device, deleted account)
// must still fail at once, an expired one at its expiry, and the cache stays within its bounds.
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TestClock, type TestApp } from '../../test/app.js';
import { SESSION_CACHE_MS, SessionStore, tokenHash } from './session.guard.js';
import { call, login, registerUser } from './test-kit.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const SESSION_TTL_MS = 3600_000;
let t: TestApp;
let clock: TestClock;
let store: SessionStore;

const me = async (token: string) => (await call(t.app, 'GET', '/api/v1/accounts/me', undefined, token)).statusCode;
/** A session resolved once, so that it is in the cache. */
const cached = async (token: string) => {
  expect(await me(token)).toBe(200);
  expect(await me(token)).toBe(200);
};

beforeAll(async () => {
  clock = new TestClock(T0);
  t = await createTestApp({ SESSION_TTL_MS: String(SESSION_TTL_MS) }, { clock });
  store = t.app.get(SessionStore);
});
afterAll(async () => {
  await t?.close();
});

describe('session cache', () => {
  it('a cached session fails at once after logout', async () => {
    const u = await registerUser(t.app, 'logout-user');
    const second = (await login(t.app, 'logout-user', u.password)).res!.json().token as string;
    await cached(u.token);
    await cached(second);
    expect((await call(t.app, 'DELETE', '/api/v1/sessions/current', undefined, u.token)).statusCode).toBe(204);
    expect(await me(u.token)).toBe(401);
    // Another device's session of the account is untouched.
    expect(await me(second)).toBe(200);
  });

  it('a cached session fails at once after its device is revoked, and after its account is deleted', async () => {
    const u = await registerUser(t.app, 'revoke-user');
    const other = (await login(t.app, 'revoke-user', u.password)).res!.json() as { token: string; deviceId: string };
    await cached(other.token);
    expect((await call(t.app, 'DELETE', `/api/v1/devices/${other.deviceId}`, undefined, u.token)).statusCode).toBe(204);
    expect(await me(other.token)).toBe(401);
    await cached(u.token);
    expect((await call(t.app, 'DELETE', '/api/v1/accounts/me', undefined, u.token)).statusCode).toBe(204);
    expect(await me(u.token)).toBe(401);
  });

  it('a cached session fails at its expiry', async () => {
    const u = await registerUser(t.app, 'expiry-user');
    await cached(u.token);
    clock.advance(SESSION_TTL_MS - 1);
    expect(await me(u.token)).toBe(200);
    clock.advance(1);
    expect(await me(u.token)).toBe(401);
  });

  it(`an end the cache never heard of holds for at most ${SESSION_CACHE_MS} ms`, async () => {
    const u = await registerUser(t.app, 'missed-user');
    await cached(u.token);
    // Deleted behind the server's back (no event): the cached lookup is the bound.
    await t.app.get(DataSource).query(`DELETE FROM session WHERE token_hash = $1`, [tokenHash(u.token)]);
    clock.advance(SESSION_CACHE_MS - 1);
    expect(await me(u.token)).toBe(200);
    clock.advance(1);
    expect(await me(u.token)).toBe(401);
  });

  it('holds at most maxEntries sessions, the oldest going first, and every token still resolves', async () => {
    const users = await Promise.all(['cap-a', 'cap-b', 'cap-c'].map((n) => registerUser(t.app, n)));
    const before = store.maxEntries;
    store.maxEntries = 2;
    try {
      for (const u of users) await cached(u.token);
      expect(store.size).toBe(2);
      for (const u of users) expect(await me(u.token)).toBe(200);
      expect(store.size).toBe(2);
    } finally {
      store.maxEntries = before;
    }
  });
});
