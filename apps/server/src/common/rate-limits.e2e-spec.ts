// Two server instances with REDIS_URL share their rate limits: what one counted, the other
// refuses. Each instance has its own database here; the limits live only in Redis.
import { randomBytes } from 'node:crypto';
import * as opaque from '@serenity-kit/opaque';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.js';
import { testDatabase } from '../../test/db.js';
import { createApp } from '../app.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from './logger.js';
import { call } from '../messenger/test-kit.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_PREFIX = `qpc-test:${randomBytes(6).toString('hex')}:`;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  const env = { REDIS_URL, REDIS_PREFIX, LOGIN_RATE_PER_MIN: '2' };
  [a, b] = await Promise.all([createTestApp(env), createTestApp(env)]);
  await opaque.ready;
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${REDIS_PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('rate limits shared through Redis', () => {
  it('counts login attempts for a username across instances', async () => {
    const attempt = (t: TestApp) => call(t.app, 'POST', '/api/v1/sessions/start', { username: 'nobody-at-all', startLoginRequest: opaque.client.startLogin({ password: 'guess' }).startLoginRequest });
    expect((await attempt(a)).statusCode).toBe(200);
    expect((await attempt(b)).statusCode).toBe(200);
    const third = await attempt(a);
    expect(third.statusCode).toBe(429);
    expect(third.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(third.json().code).toBe('auth.rate_limited');
    expect((await attempt(b)).json().code).toBe('auth.rate_limited');
  });

  it('says at boot that the limits are shared', () => {
    // Nest's loggers write to the app created last when two start at once: count over both.
    const lines = [...a.logs, ...b.logs].filter((l) => l.context === 'rate-limit' && l.msg === 'rate limits shared through Redis');
    expect(lines).toHaveLength(2);
  });

  it('does not start with a Redis it cannot reach', async () => {
    const db = await testDatabase();
    try {
      const config = loadConfig({ NODE_ENV: 'test', DB_POOL_SIZE: '2', REDIS_URL: 'redis://127.0.0.1:1' });
      await expect(createApp({ config, databaseUrl: db.url, logger: createLogger('silent') })).rejects.toThrow(/REDIS_URL: cannot connect/);
    } finally {
      await db.close();
    }
  });
});
