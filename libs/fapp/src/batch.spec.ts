import { describe, expect, it } from 'vitest';
import { announceBatches, decodeAnnounceBatch, encodeAnnounceBatch } from './batch.js';
import { FappError } from './errors.js';
import { ANNOUNCE_BATCH_MAX_BYTES, ANNOUNCE_BATCH_MAX_COUNT, MAX_MESSAGE_BYTES } from './limits.js';

const item = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof FappError ? e.code : String(e);
  }
  return 'none';
};

describe('FappAnnounceBatch', () => {
  it('round-trips the items byte for byte, in order', () => {
    const items = [item(3, 1), item(0), item(2000, 7), Uint8Array.of(0x0a, 0xff)];
    expect(decodeAnnounceBatch(encodeAnnounceBatch(items))).toEqual(items);
  });

  it('rejects bytes the decoder cannot read as MALFORMED', () => {
    const good = encodeAnnounceBatch([item(40)]);
    expect(code(() => decodeAnnounceBatch(good.subarray(0, good.length - 1)))).toBe('MALFORMED');
    expect(code(() => decodeAnnounceBatch(Uint8Array.of(0x0f, 0x00)))).toBe('MALFORMED');
    expect(decodeAnnounceBatch(good)).toHaveLength(1);
  });
});

describe('announceBatches', () => {
  it('keeps every batch within the count and size limits, in order', () => {
    const many = Array.from({ length: ANNOUNCE_BATCH_MAX_COUNT * 2 + 1 }, (_, i) => item(10, i % 256));
    const byCount = announceBatches(many);
    expect(byCount.map((b) => b.length)).toEqual([ANNOUNCE_BATCH_MAX_COUNT, ANNOUNCE_BATCH_MAX_COUNT, 1]);
    expect(byCount.flat()).toEqual(many);

    const big = Array.from({ length: 40 }, () => item(MAX_MESSAGE_BYTES));
    const bySize = announceBatches(big);
    const perBatch = Math.floor(ANNOUNCE_BATCH_MAX_BYTES / MAX_MESSAGE_BYTES);
    expect(bySize.map((b) => b.length)).toEqual([perBatch, perBatch, 40 - 2 * perBatch]);
    for (const b of bySize) expect(b.reduce((n, x) => n + x.byteLength, 0)).toBeLessThanOrEqual(ANNOUNCE_BATCH_MAX_BYTES);
    expect(announceBatches([])).toEqual([]);
  });
});
