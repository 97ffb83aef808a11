/**
 * In-memory sliding-window counter (one server instance). Across instances the same
 * interface is backed by Redis; see docs/operations.md.
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Records a hit for `key` at `nowMs`; false when the key is over its limit. */
  take(key: string, nowMs: number): boolean {
    const since = nowMs - this.windowMs;
    const list = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (list.length >= this.limit) {
      this.hits.set(key, list);
      return false;
    }
    list.push(nowMs);
    this.hits.set(key, list);
    if (this.hits.size > this.maxKeys) this.prune(nowMs);
    return true;
  }

  private prune(nowMs: number) {
    const since = nowMs - this.windowMs;
    for (const [k, list] of this.hits) if (!list.some((t) => t > since)) this.hits.delete(k);
  }
}
