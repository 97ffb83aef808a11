import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ServerConfig } from '../config/config.js';
import { type RateLimit, SlidingWindowLimiter } from './rate-limit.js';
import { RedisWindowLimiter } from './redis-rate-limit.js';

/** A failing Redis is reported at most this often (a request per hit would flood the log). */
const WARN_EVERY_MS = 60_000;

/**
 * Makes the services' rate limits. Without `REDIS_URL` each limit counts in this instance's
 * memory (`SlidingWindowLimiter`); with it, in Redis (`RedisWindowLimiter`, keys
 * `<REDIS_PREFIX>rl:<limit name>:<key>`), so that all instances share one count. The server does
 * not start when Redis cannot be reached at boot. Later, while Redis fails, limits let hits through
 * (and say so in the log once a minute): an unreachable Redis must not stop logins and messages.
 */
@Injectable()
export class RateLimits implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('rate-limit');
  private readonly redis: Redis | undefined;
  private lastWarn = -Infinity;

  constructor(@Inject(ServerConfig) private readonly config: ServerConfig) {
    if (config.REDIS_URL) {
      // Commands fail at once while disconnected (no queue), so a hit never waits on a reconnect.
      this.redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      this.redis.on('error', () => undefined);
    }
  }

  async onModuleInit(): Promise<void> {
    if (!this.redis) return;
    try {
      await this.redis.connect();
      await this.redis.ping();
    } catch (e) {
      this.redis.disconnect();
      throw new Error(`REDIS_URL: cannot connect (${(e as Error).message})`, { cause: e });
    }
    this.log.log('rate limits shared through Redis');
  }

  async onModuleDestroy(): Promise<void> {
    if (this.redis && this.redis.status === 'ready') await this.redis.quit();
    else this.redis?.disconnect();
  }

  /** At most `limit` hits per key within any `windowMs`; `name` keeps limits apart in Redis. */
  create(name: string, limit: number, windowMs: number, opts: { maxKeys?: number } = {}): RateLimit {
    if (!this.redis) {
      const local = new SlidingWindowLimiter(limit, windowMs, opts.maxKeys);
      return { take: (key, nowMs) => Promise.resolve(local.take(key, nowMs)) };
    }
    const shared = new RedisWindowLimiter(this.redis, `${this.config.REDIS_PREFIX}rl:${name}:`, limit, windowMs);
    return {
      take: (key, nowMs) =>
        shared.take(key, nowMs).catch((e: unknown) => {
          if (nowMs - this.lastWarn >= WARN_EVERY_MS) {
            this.lastWarn = nowMs;
            this.log.warn(`Redis unavailable, rate limits let hits through: ${(e as Error).message}`);
          }
          return true;
        }),
    };
  }
}
