import { expect } from 'vitest';

/**
 * Feeds hits `gaps` apart (ms) to a sliding-window limit of `limit` per `windowMs` counted in
 * `buckets` buckets, and checks both bounds of its contract on every hit: no window ever holds
 * more than `limit` accepted hits, and a key whose last accepted hit is a window and a bucket old
 * is free again.
 */
export async function checkWindowContract(take: (nowMs: number) => boolean | Promise<boolean>, limit: number, windowMs: number, buckets: number, gaps: number[]): Promise<void> {
  const accepted: number[] = [];
  let t = 1_000_000;
  for (const gap of gaps) {
    t += gap;
    const inWindow = accepted.filter((a) => a > t - windowMs).length;
    const quiet = accepted.every((a) => a <= t - windowMs - windowMs / buckets);
    const ok = await take(t);
    if (ok) accepted.push(t);
    expect(inWindow + (ok ? 1 : 0)).toBeLessThanOrEqual(limit);
    if (quiet) expect(ok).toBe(true);
  }
}
