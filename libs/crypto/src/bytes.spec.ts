import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, fromBase64Url, fromHex, fromUtf8, randomBytes, sha256, toBase64Url, toHex, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';

describe('bytes', () => {
  it('sha256 matches the FIPS 180 "abc" vector', () => {
    expect(toHex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('randomBytes returns fresh bytes of the asked length, above the 64 KiB getRandomValues limit too', () => {
    expect(randomBytes(0)).toHaveLength(0);
    expect(randomBytes(100_000)).toHaveLength(100_000);
    expect(constantTimeEqual(randomBytes(32), randomBytes(32))).toBe(false);
    expect(() => randomBytes(-1)).toThrow(CryptoError);
  });

  it('constantTimeEqual', () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
  });

  it('base64url: RFC 4648 vectors, no padding', () => {
    const cases: [string, string][] = [['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy']];
    for (const [raw, enc] of cases) {
      expect(toBase64Url(utf8(raw))).toBe(enc);
      expect(fromBase64Url(enc)).toEqual(utf8(raw));
    }
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
  });

  it('base64url rejects padding, bad characters and non-canonical tails', () => {
    for (const bad of ['Zg==', 'Z', 'Zh', 'a b', 'Zm9v+', 'Zm9v/']) {
      expect(() => fromBase64Url(bad)).toThrow(CryptoError);
    }
  });

  it('hex round trip and rejection', () => {
    expect(fromHex('00ffAB')).toEqual(Uint8Array.of(0, 255, 0xab));
    for (const bad of ['0', 'zz', '0x00']) expect(() => fromHex(bad)).toThrow(CryptoError);
  });

  it('property: round trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(fromBase64Url(toBase64Url(b))).toEqual(b);
        expect(fromHex(toHex(b))).toEqual(b);
      }),
    );
  });

  it('property: encoders agree with independent encodings (lower-case hex; base64 with the URL alphabet, unpadded)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(toHex(b)).toBe(Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
        const b64 = btoa(String.fromCharCode(...b));
        expect(toBase64Url(b)).toBe(b64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''));
      }),
    );
  });

  it('property: decoders throw only CryptoError on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (s) => {
        for (const dec of [fromBase64Url, fromHex]) {
          try {
            dec(s);
          } catch (e) {
            expect(e).toBeInstanceOf(CryptoError);
          }
        }
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          fromUtf8(b);
        } catch (e) {
          expect(e).toBeInstanceOf(CryptoError);
        }
      }),
    );
  });
});
