import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './rate-limit.js';

describe('SlidingWindowLimiter', () => {
  it('allows up to the limit within the window, then refuses until hits age out', () => {
    const l = new SlidingWindowLimiter(3, 1000);
    expect([0, 10, 20].map((t) => l.take('k', t))).toEqual([true, true, true]);
    expect(l.take('k', 500)).toBe(false);
    expect(l.take('other', 500)).toBe(true);
    expect(l.take('k', 1001)).toBe(true);
  });
});
