import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, sha256, toHex, utf8 } from './bytes.js';
import { fingerprint, generateSigningKeyPair, meshAddress, sign, signingKeyPairFromSeed, verify } from './identity.js';

// RFC 8032 §7.1, TEST 1 and TEST 2.
const T1 = {
  sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  msg: '',
  sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};
const T2 = {
  sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  msg: '72',
  sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
};

describe('identity (Ed25519)', () => {
  it.each([T1, T2])('RFC 8032 vector', (t) => {
    const kp = signingKeyPairFromSeed(fromHex(t.sk));
    expect(toHex(kp.publicKey)).toBe(t.pk);
    expect(toHex(sign(kp.secretKey, fromHex(t.msg)))).toBe(t.sig);
    expect(verify(kp.publicKey, fromHex(t.msg), fromHex(t.sig))).toBe(true);
  });

  it('round trip; any flipped bit fails', () => {
    const kp = generateSigningKeyPair();
    const msg = utf8('Termin am Dienstag');
    const sig = sign(kp.secretKey, msg);
    expect(sig).toHaveLength(64);
    expect(verify(kp.publicKey, msg, sig)).toBe(true);
    for (let bit = 0; bit < 64 * 8; bit += 7) {
      const s = sig.slice();
      s[bit >> 3]! ^= 1 << (bit & 7);
      expect(verify(kp.publicKey, msg, s)).toBe(false);
    }
    const m = msg.slice();
    m[0]! ^= 1;
    expect(verify(kp.publicKey, m, sig)).toBe(false);
  });

  it('verify never throws on garbage', () => {
    const kp = generateSigningKeyPair();
    expect(verify(new Uint8Array(3), utf8('x'), new Uint8Array(64))).toBe(false);
    expect(verify(kp.publicKey, utf8('x'), new Uint8Array(10))).toBe(false);
    expect(verify(new Uint8Array(32).fill(0xff), utf8('x'), new Uint8Array(64))).toBe(false);
    expect(verify('nope' as unknown as Uint8Array, utf8('x'), new Uint8Array(64))).toBe(false);
  });

  it('property: verify on random keys, messages and signatures returns false and never throws', () => {
    const kp = generateSigningKeyPair();
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constant(kp.publicKey)), fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 60, maxLength: 66 }), (pk, m, sig) => {
        expect(verify(pk, m, sig)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a wrong-size seed with INVALID_KEY', () => {
    expect(() => signingKeyPairFromSeed(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }) as Error);
  });

  it('fingerprint and mesh address', () => {
    const pk = fromHex(T1.pk);
    expect(fingerprint(pk)).toMatch(/^([0-9A-F]{4} ){9}[0-9A-F]{4}$/);
    expect(fingerprint(pk).replaceAll(' ', '')).toBe(toHex(sha256(pk).subarray(0, 20)).toUpperCase());
    expect(meshAddress(pk)).toEqual(sha256(pk).subarray(0, 16));
    expect(meshAddress(pk)).toHaveLength(16);
  });
});
