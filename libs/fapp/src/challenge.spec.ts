import { generateSigningKeyPair, randomBytes } from '@qpc/crypto';
import { describe, expect, it } from 'vitest';
import { signChallenge, verifyChallenge } from './challenge.js';
import { isFappError } from './errors.js';

describe('therapist challenge', () => {
  it('verifies an answer for the same key and challenge only', () => {
    const t = generateSigningKeyPair();
    const other = generateSigningKeyPair();
    const c = randomBytes(32);
    const sig = signChallenge(t, c);
    expect(() => verifyChallenge(t.publicKey, c, sig)).not.toThrow();
    const errors = [() => verifyChallenge(other.publicKey, c, sig), () => verifyChallenge(t.publicKey, randomBytes(32), sig), () => verifyChallenge(t.publicKey, c, sig.subarray(1))];
    for (const f of errors) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isFappError(e, 'BAD_SIGNATURE')).toBe(true);
      }
    }
  });

  it('rejects challenges of the wrong size as MALFORMED', () => {
    const t = generateSigningKeyPair();
    expect(() => signChallenge(t, new Uint8Array(5))).toThrow(/challenge must be 32 bytes/);
  });
});
