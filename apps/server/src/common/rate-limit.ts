/** Buckets a window is divided into by default (for a minute: one per second). */
export const DEFAULT_BUCKETS = 60;

/** A rate limit as the services use it: in this process's memory, or shared by all instances in Redis (`RateLimits`). */
export interface RateLimit {
  /** Records a hit for `key` at `nowMs`; false (and nothing recorded) when the key is at its limit. */
  take(key: string, nowMs: number): Promise<boolean>;
}

/**
 * How a window of `windowMs` is cut into `buckets` buckets, kept as `slots` (one more than the
 * window holds, so a hit counts for at least the whole window): the bucket of a time is
 * `floor(time / width)`. Both limiters, in memory and in Redis, count this way.
 */
export class Bucketing {
  readonly width: number;
  readonly slots: number;

  constructor(limit: number, windowMs: number, buckets: number) {
    if (!(limit >= 0) || !(windowMs > 0) || !Number.isInteger(buckets) || buckets < 1) throw new RangeError('a rate limit needs limit >= 0, windowMs > 0 and buckets >= 1');
    this.width = windowMs / buckets;
    this.slots = buckets + 1;
  }

  bucket(nowMs: number): number {
    return Math.floor(nowMs / this.width);
  }
}

interface KeyWindow {
  /** Hits per bucket, a ring: `head` is the bucket `headBucket` (time / width); one more bucket than the window holds. */
  counts: Uint32Array;
  head: number;
  headBucket: number;
  /** Sum of `counts`. */
  total: number;
}

/**
 * In-memory sliding-window limit: at most `limit` hits per key within any `windowMs`, on this
 * server instance (without `REDIS_URL`; with it, `RedisWindowLimiter` counts the same way for all
 * instances).
 *
 * Hits are counted in `buckets` slices of the window (plus the current one), so a key costs a
 * fixed few hundred bytes and a hit a constant amount of work, whatever the limit: no list of
 * timestamps that every hit would copy (at a limit of 1 200 a minute, a busy key's list was
 * 10 KB copied per hit, garbage the collector then had to trace). A hit counts until its bucket
 * has left the window, i.e. for at least `windowMs` and at most one bucket (`windowMs / buckets`)
 * longer: the limit is never exceeded in any window, and a refused key may wait up to a bucket
 * longer than an exact log would make it.
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, KeyWindow>();
  private readonly buckets: Bucketing;

  constructor(
    private readonly limit: number,
    windowMs: number,
    private readonly maxKeys = 100_000,
    buckets = DEFAULT_BUCKETS,
  ) {
    this.buckets = new Bucketing(limit, windowMs, buckets);
  }

  /** Records a hit for `key` at `nowMs`; false (and nothing recorded) when the key is at its limit. */
  take(key: string, nowMs: number): boolean {
    const bucket = this.buckets.bucket(nowMs);
    let w = this.hits.get(key);
    if (w) this.advance(w, bucket);
    else {
      if (this.limit === 0) return false;
      w = { counts: new Uint32Array(this.buckets.slots), head: 0, headBucket: bucket, total: 0 };
      this.hits.set(key, w);
    }
    if (w.total >= this.limit) return false;
    w.counts[w.head]!++;
    w.total++;
    if (this.hits.size > this.maxKeys) this.prune(bucket);
    return true;
  }

  /** Empties the buckets that left the window by `bucket`. A clock that went back counts into the current bucket. */
  private advance(w: KeyWindow, bucket: number): void {
    const { slots } = this.buckets;
    const steps = Math.min(bucket - w.headBucket, slots);
    if (steps <= 0) return;
    for (let i = 0; i < steps; i++) {
      w.head = (w.head + 1) % slots;
      w.total -= w.counts[w.head]!;
      w.counts[w.head] = 0;
    }
    w.headBucket = bucket;
  }

  /** Drops the keys with no hit left in the window. */
  private prune(bucket: number): void {
    for (const [k, w] of this.hits) {
      this.advance(w, bucket);
      if (w.total === 0) this.hits.delete(k);
    }
  }

  /** Keys held (for tests and metrics). */
  get size(): number {
    return this.hits.size;
  }
}
