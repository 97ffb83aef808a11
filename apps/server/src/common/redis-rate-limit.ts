import type { Redis } from 'ioredis';
import { Bucketing, DEFAULT_BUCKETS, type RateLimit } from './rate-limit.js';

/**
 * One hit, atomically: KEYS[1] is a hash of bucket number -> hits. Buckets that left the window
 * (bucket <= current - slots) are deleted, the rest summed; under the limit the current bucket
 * gets the hit. The hash expires a window and a bucket after its last hit.
 * ARGV: current bucket, slots (buckets + 1), limit, time to live in ms. Returns 1 or 0.
 */
const TAKE_SCRIPT = `
local bucket = tonumber(ARGV[1])
local slots = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  if tonumber(fields[i]) <= bucket - slots then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    total = total + tonumber(fields[i + 1])
  end
end
if total >= limit then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

type WithTake = Redis & { qpcRateTake(key: string, bucket: number, slots: number, limit: number, ttlMs: number): Promise<number> };

/** Registers the script on a connection (sent once, then called by its SHA). */
function withRateScript(redis: Redis): WithTake {
  if (!('qpcRateTake' in redis)) redis.defineCommand('qpcRateTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  return redis as WithTake;
}

/**
 * The sliding-window limit of `SlidingWindowLimiter`, counted in Redis so that all server
 * instances share it: at most `limit` hits per key within any `windowMs`, in `buckets` slices
 * plus the current one (a hit counts for at least the window and at most one bucket longer).
 * Bucket numbers come from the caller's clock, so instances need synchronised clocks (a bucket
 * is a second of a minute). Keys are `<prefix><key>`; one hash per key, gone a window after its
 * last hit.
 */
export class RedisWindowLimiter implements RateLimit {
  private readonly buckets: Bucketing;
  private readonly ttlMs: number;
  private readonly redis: WithTake;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly limit: number,
    windowMs: number,
    buckets = DEFAULT_BUCKETS,
  ) {
    this.buckets = new Bucketing(limit, windowMs, buckets);
    this.redis = withRateScript(redis);
    this.ttlMs = Math.ceil(windowMs + this.buckets.width);
  }

  async take(key: string, nowMs: number): Promise<boolean> {
    if (this.limit === 0) return false;
    return (await this.redis.qpcRateTake(this.prefix + key, this.buckets.bucket(nowMs), this.buckets.slots, this.limit, this.ttlMs)) === 1;
  }
}
