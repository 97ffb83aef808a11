import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { provider } from '#provider';
import { nobleProvider } from './noble.js';
import { nodeProvider } from './node.node.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const msg = fc.uint8Array({ maxLength: 300 });

describe('crypto providers', () => {
  it('Node picks the native provider automatically', () => {
    expect(provider.name).toBe('node');
  });

  it('hashes, HMAC, HKDF agree byte for byte', () => {
    fc.assert(
      fc.property(msg, msg, bytes(16), fc.integer({ min: 1, max: 200 }), (a, b, salt, len) => {
        expect(nodeProvider.sha256(a)).toEqual(nobleProvider.sha256(a));
        expect(nodeProvider.sha512(a)).toEqual(nobleProvider.sha512(a));
        expect(nodeProvider.hmacSha256(b, a)).toEqual(nobleProvider.hmacSha256(b, a));
        expect(nodeProvider.hkdfSha256(a, salt, b, len)).toEqual(nobleProvider.hkdfSha256(a, salt, b, len));
      }),
      { numRuns: 60 },
    );
  });

  it('Ed25519 keys and signatures agree; each verifies the other', () => {
    fc.assert(
      fc.property(bytes(32), msg, (seed, m) => {
        const pk = nodeProvider.ed25519PublicKey(seed);
        expect(pk).toEqual(nobleProvider.ed25519PublicKey(seed));
        const sig = nodeProvider.ed25519Sign(seed, m);
        expect(sig).toEqual(nobleProvider.ed25519Sign(seed, m));
        expect(nobleProvider.ed25519Verify(pk, m, sig)).toBe(true);
        expect(nodeProvider.ed25519Verify(pk, m, sig)).toBe(true);
        const bad = sig.slice();
        bad[0]! ^= 1;
        expect(nodeProvider.ed25519Verify(pk, m, bad)).toBe(false);
        expect(nobleProvider.ed25519Verify(pk, m, bad)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('Ed25519 verify agrees on malformed keys and signatures', () => {
    fc.assert(
      fc.property(bytes(32), bytes(64), msg, (pk, sig, m) => {
        expect(nodeProvider.ed25519Verify(pk, m, sig)).toBe(nobleProvider.ed25519Verify(pk, m, sig));
      }),
      { numRuns: 30 },
    );
    // S >= L (non-canonical scalar) must be rejected by both.
    const seed = new Uint8Array(32).fill(7);
    const pk = nodeProvider.ed25519PublicKey(seed);
    const sig = nodeProvider.ed25519Sign(seed, new Uint8Array(0));
    const s = sig.slice();
    s.fill(0xff, 32);
    expect(nodeProvider.ed25519Verify(pk, new Uint8Array(0), s)).toBe(false);
    expect(nobleProvider.ed25519Verify(pk, new Uint8Array(0), s)).toBe(false);
  });

  it('X25519 agrees', () => {
    fc.assert(
      fc.property(bytes(32), bytes(32), (a, b) => {
        const pa = nodeProvider.x25519PublicKey(a);
        expect(pa).toEqual(nobleProvider.x25519PublicKey(a));
        const pb = nobleProvider.x25519PublicKey(b);
        expect(nodeProvider.x25519SharedSecret(a, pb)).toEqual(nobleProvider.x25519SharedSecret(a, pb));
        expect(nodeProvider.x25519SharedSecret(b, pa)).toEqual(nodeProvider.x25519SharedSecret(a, pb));
      }),
      { numRuns: 30 },
    );
  });

  it('AES-GCM and ChaCha20-Poly1305 agree and reject tampering', () => {
    fc.assert(
      fc.property(fc.constantFrom(16, 32), bytes(32), bytes(12), msg, fc.option(msg, { nil: undefined }), (klen, k, n, pt, aad) => {
        const key = k.subarray(0, klen);
        const g = nodeProvider.aesGcmEncrypt(key, n, pt, aad);
        expect(g).toEqual(nobleProvider.aesGcmEncrypt(key, n, pt, aad));
        expect(nobleProvider.aesGcmDecrypt(key, n, g, aad)).toEqual(pt);
        expect(nodeProvider.aesGcmDecrypt(key, n, g, aad)).toEqual(pt);
        const c = nodeProvider.chacha20Poly1305Encrypt(k, n, pt, aad);
        expect(c).toEqual(nobleProvider.chacha20Poly1305Encrypt(k, n, pt, aad));
        expect(nodeProvider.chacha20Poly1305Decrypt(k, n, c, aad)).toEqual(pt);
        const t = c.slice();
        t[t.length - 1]! ^= 1;
        expect(() => nodeProvider.chacha20Poly1305Decrypt(k, n, t, aad)).toThrow();
        expect(() => nobleProvider.chacha20Poly1305Decrypt(k, n, t, aad)).toThrow();
      }),
      { numRuns: 40 },
    );
  });

  it('randomBytes', () => {
    for (const p of [nodeProvider, nobleProvider]) {
      expect(p.randomBytes(70_000)).toHaveLength(70_000);
      expect(p.randomBytes(32)).not.toEqual(p.randomBytes(32));
    }
  });
});

describe('node provider key cache', () => {
  it('a changed or wiped secret key array is never signed with stale key material', () => {
    const seed = nodeProvider.randomBytes(32);
    const m = new Uint8Array([1, 2, 3]);
    const s1 = nodeProvider.ed25519Sign(seed, m);
    seed[0]! ^= 1;
    expect(nodeProvider.ed25519Sign(seed, m)).toEqual(nobleProvider.ed25519Sign(seed, m));
    expect(nodeProvider.ed25519Sign(seed, m)).not.toEqual(s1);
    seed.fill(0);
    expect(nodeProvider.ed25519Sign(seed, m)).toEqual(nobleProvider.ed25519Sign(seed, m));
  });

  it('the same array used as Ed25519 and X25519 key keeps the algorithms apart', () => {
    const k = nodeProvider.randomBytes(32);
    const other = nobleProvider.x25519PublicKey(nodeProvider.randomBytes(32));
    nodeProvider.ed25519Sign(k, new Uint8Array(1));
    expect(nodeProvider.x25519SharedSecret(k, other)).toEqual(nobleProvider.x25519SharedSecret(k, other));
    expect(nodeProvider.ed25519Sign(k, new Uint8Array(1))).toEqual(nobleProvider.ed25519Sign(k, new Uint8Array(1)));
  });
});
