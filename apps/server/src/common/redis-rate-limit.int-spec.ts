// The shared rate limit against the Redis the project machines run (REDIS_URL, default
// 127.0.0.1:6379). Every test writes under its own random key prefix and deletes it afterwards.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWindowContract } from '../../test/window-property.js';
import { loadConfig } from '../config/config.js';
import { RateLimits } from './rate-limits.js';
import { RedisWindowLimiter } from './redis-rate-limit.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `qpc-test:${randomBytes(6).toString('hex')}:`;
let a: Redis;
let b: Redis;

beforeAll(async () => {
  a = new Redis(REDIS_URL);
  b = new Redis(REDIS_URL);
  await Promise.all([a.ping(), b.ping()]);
});

afterAll(async () => {
  const keys = await a.keys(`${prefix}*`);
  if (keys.length > 0) await a.del(...keys);
  await Promise.all([a.quit(), b.quit()]);
});

describe('RedisWindowLimiter', () => {
  it('shares one count between instances: the limit holds across connections', async () => {
    const onA = new RedisWindowLimiter(a, `${prefix}shared:`, 3, 60_000);
    const onB = new RedisWindowLimiter(b, `${prefix}shared:`, 3, 60_000);
    const t = 1_000_000;
    expect([await onA.take('k', t), await onB.take('k', t + 1), await onA.take('k', t + 2)]).toEqual([true, true, true]);
    expect(await onB.take('k', t + 3)).toBe(false);
    expect(await onA.take('other', t + 3)).toBe(true);
    // A window and a bucket later the key is free again.
    expect(await onB.take('k', t + 61_000)).toBe(true);
  });

  it('lets exactly the limit through when many instances hit one key at once', async () => {
    const limiters = [a, b].map((r) => new RedisWindowLimiter(r, `${prefix}race:`, 10, 60_000));
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => limiters[i % 2]!.take('k', 5_000_000)));
    expect(results.filter(Boolean)).toHaveLength(10);
  });

  it('never lets more than the limit through in any window, and frees a key after a window and a bucket', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(1, 2, 5, 10),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 40 }),
        async (limit, buckets, gaps) => {
          const l = new RedisWindowLimiter(a, `${prefix}prop${run++}:`, limit, 100, buckets);
          await checkWindowContract((t) => l.take('k', t), limit, 100, buckets, gaps);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps one hash per key that expires a window and a bucket after its last hit', async () => {
    const l = new RedisWindowLimiter(a, `${prefix}ttl:`, 5, 60_000);
    for (let i = 0; i < 3; i++) expect(await l.take('k', 9_000_000 + i * 1_000)).toBe(true);
    expect(await a.type(`${prefix}ttl:k`)).toBe('hash');
    const ttl = await a.pttl(`${prefix}ttl:k`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(61_000);
    expect(await a.hlen(`${prefix}ttl:k`)).toBe(3);
  });

  it('refuses everything at a limit of zero, and rejects a window or bucket count that cannot work', async () => {
    expect(await new RedisWindowLimiter(a, `${prefix}zero:`, 0, 1000).take('k', 0)).toBe(false);
    expect(() => new RedisWindowLimiter(a, prefix, 1, 0)).toThrow(RangeError);
    expect(() => new RedisWindowLimiter(a, prefix, 1, 1000, 0)).toThrow(RangeError);
  });
});

describe('RateLimits', () => {
  it('counts in Redis under REDIS_PREFIX with REDIS_URL, and lets hits through once Redis is gone', async () => {
    const limits = new RateLimits(loadConfig({ REDIS_URL, REDIS_PREFIX: prefix }));
    await limits.onModuleInit();
    const login = limits.create('login', 1, 60_000);
    expect(await login.take('bob', 7_000_000)).toBe(true);
    expect(await login.take('bob', 7_000_001)).toBe(false);
    expect(await a.exists(`${prefix}rl:login:bob`)).toBe(1);
    await limits.onModuleDestroy();
    // The connection is closed: the limit cannot be checked, and the hit goes through.
    expect(await login.take('bob', 7_000_002)).toBe(true);
  });

  it('refuses to start when Redis cannot be reached', async () => {
    const limits = new RateLimits(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }));
    await expect(limits.onModuleInit()).rejects.toThrow(/REDIS_URL: cannot connect/);
  });

  it('counts in memory without REDIS_URL', async () => {
    const limits = new RateLimits(loadConfig({}));
    await limits.onModuleInit();
    const l = limits.create('login', 1, 60_000);
    expect([await l.take('bob', 0), await l.take('bob', 1)]).toEqual([true, false]);
    await limits.onModuleDestroy();
  });
});
