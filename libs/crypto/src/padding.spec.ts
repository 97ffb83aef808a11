import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from './errors.js';
import { pad, paddedLength, padmeLength, unpad } from './padding.js';

describe('padding', () => {
  it('default: 256-byte floor, then Padmé', () => {
    expect(pad(new Uint8Array(0))).toHaveLength(256);
    expect(pad(new Uint8Array(255))).toHaveLength(256);
    expect(pad(new Uint8Array(256)).length).toBeGreaterThan(256);
    expect(padmeLength(1000)).toBe(1024);
    expect(padmeLength(1025)).toBe(1088);
  });

  it('explicit buckets round up to a multiple', () => {
    expect(pad(new Uint8Array(10), 64)).toHaveLength(64);
    expect(pad(new Uint8Array(63), 64)).toHaveLength(64);
    expect(pad(new Uint8Array(64), 64)).toHaveLength(128);
    expect(pad(new Uint8Array(5), 1)).toHaveLength(6);
    expect(() => pad(new Uint8Array(1), 0)).toThrow(CryptoError);
  });

  it('unpad rejects missing markers', () => {
    expect(() => unpad(new Uint8Array(0))).toThrow(CryptoError);
    expect(() => unpad(new Uint8Array(16))).toThrow(CryptoError);
    expect(() => unpad(Uint8Array.of(1, 2, 0))).toThrow(CryptoError);
  });

  it('property: round trip, Padmé overhead under 12 % beyond the floor', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }), (b, bucket) => {
        const p = pad(b, bucket);
        expect(unpad(p)).toEqual(b);
        if (bucket === undefined && b.length >= 256) expect(p.length).toBeLessThanOrEqual(Math.ceil((b.length + 1) * 1.12));
        if (bucket !== undefined) expect(p.length % bucket).toBe(0);
      }),
    );
    for (let n = 0; n < 5000; n += 37) expect(paddedLength(n)).toBeGreaterThan(n);
  });

  it('property: unpad throws only CryptoError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          unpad(b);
        } catch (e) {
          expect(e).toBeInstanceOf(CryptoError);
        }
      }),
    );
  });
});
