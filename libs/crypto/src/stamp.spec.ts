import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { mintStamp, verifyStamp } from './stamp.js';

describe('proof-of-work stamps', () => {
  it('mints and verifies; bound to the context and the difficulty', async () => {
    const ctx = utf8('fapp/reserve/slot-42');
    const stamp = await mintStamp(ctx, 12);
    expect(stamp).toHaveLength(18);
    expect(verifyStamp(stamp, ctx, 12)).toBe(true);
    expect(verifyStamp(stamp, ctx, 8)).toBe(true);
    expect(verifyStamp(stamp, ctx, 13)).toBe(false);
    expect(verifyStamp(stamp, utf8('fapp/reserve/slot-43'), 12)).toBe(false);
  });

  it('a stamp claiming more bits than it has is rejected', async () => {
    const ctx = utf8('c');
    const stamp = await mintStamp(ctx, 4);
    const lying = stamp.slice();
    lying[1] = 40;
    expect(verifyStamp(lying, ctx, 4)).toBe(false);
  });

  it('reports progress and can be aborted', async () => {
    const ac = new AbortController();
    let seen = 0;
    const p = mintStamp(utf8('c'), 60, {
      signal: ac.signal,
      onProgress: (t) => {
        seen = t;
        if (t >= 4096) ac.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen).toBeGreaterThanOrEqual(4096);
  });

  it('rejects bad difficulty', async () => {
    await expect(mintStamp(utf8('c'), -1)).rejects.toBeInstanceOf(CryptoError);
    await expect(mintStamp(utf8('c'), 65)).rejects.toBeInstanceOf(CryptoError);
  });

  it('property: verifyStamp never throws and rarely accepts garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 20 }), fc.integer({ min: -5, max: 300 }), (s, c, d) => {
        const ok = verifyStamp(s, c, d);
        if (d >= 16) expect(ok).toBe(false);
      }),
    );
  });
});
