import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkWindowContract } from '../../test/window-property.js';
import { SlidingWindowLimiter } from './rate-limit.js';

describe('SlidingWindowLimiter', () => {
  it('allows up to the limit within the window, then refuses until hits age out', () => {
    // 1 000 buckets of 1 ms: as precise as the clock.
    const l = new SlidingWindowLimiter(3, 1000, 100_000, 1000);
    expect([0, 10, 20].map((t) => l.take('k', t))).toEqual([true, true, true]);
    expect(l.take('k', 500)).toBe(false);
    expect(l.take('other', 500)).toBe(true);
    expect(l.take('k', 1001)).toBe(true);
    expect(l.take('k', 1002)).toBe(false);
    expect(l.take('k', 1011)).toBe(true);
  });

  it('counts a hit for the whole window and at most one bucket longer', () => {
    const l = new SlidingWindowLimiter(1, 60_000);
    expect(l.take('k', 12_345)).toBe(true);
    expect(l.take('k', 12_345 + 59_999)).toBe(false);
    expect(l.take('k', 12_345 + 60_000)).toBe(false);
    expect(l.take('k', 12_345 + 60_000 + 1_000)).toBe(true);
  });

  it('never lets more than the limit through in any window, and frees a key after a window and a bucket', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        // Bucket counts that divide the window: whole-millisecond bucket edges.
        fc.constantFrom(1, 2, 4, 5, 10, 20),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }),
        async (limit, buckets, gaps) => {
          const l = new SlidingWindowLimiter(limit, 100, 100_000, buckets);
          await checkWindowContract((t) => l.take('k', t), limit, 100, buckets, gaps);
        },
      ),
    );
  });

  it('keeps a fixed size per key whatever the limit', () => {
    const l = new SlidingWindowLimiter(100_000_000, 60_000);
    for (let i = 0; i < 10_000; i++) expect(l.take('k', i)).toBe(true);
    expect(l.size).toBe(1);
  });

  it('counts hits from a clock that went back into the current bucket', () => {
    const l = new SlidingWindowLimiter(2, 1000, 100_000, 10);
    expect(l.take('k', 5_000)).toBe(true);
    expect(l.take('k', 4_000)).toBe(true);
    expect(l.take('k', 5_050)).toBe(false);
  });

  it('drops idle keys once it holds more than maxKeys', () => {
    const l = new SlidingWindowLimiter(5, 1000, 2);
    l.take('a', 0);
    l.take('b', 0);
    expect(l.size).toBe(2);
    l.take('c', 5_000);
    expect(l.size).toBe(1);
    // Keys with hits in the window stay.
    l.take('d', 5_001);
    l.take('e', 5_002);
    expect(l.size).toBe(3);
  });

  it('refuses everything at a limit of zero, and rejects a window or bucket count that cannot work', () => {
    expect(new SlidingWindowLimiter(0, 1000).take('k', 0)).toBe(false);
    expect(() => new SlidingWindowLimiter(1, 0)).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter(1, 1000, 10, 0)).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter(-1, 1000)).toThrow(RangeError);
  });
});
