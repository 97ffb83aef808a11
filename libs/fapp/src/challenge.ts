import { concatBytes, sign, type SigningKeyPair, utf8, verify } from '@qpc/crypto';
import { fail } from './errors.js';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from './limits.js';

/** Size of a server challenge a therapist signs to read their reservations. */
export const CHALLENGE_BYTES = 32;

/** "qpc-fapp-v1/challenge" || 0x00 || challenge || therapist key: bound to one key and one use. */
export function challengeSigningInput(challenge: Uint8Array, therapistKey: Uint8Array): Uint8Array {
  if (challenge.length !== CHALLENGE_BYTES) fail('MALFORMED', `challenge must be ${CHALLENGE_BYTES} bytes`);
  if (therapistKey.length !== ED25519_PUBLIC_KEY_BYTES) fail('INVALID_KEY', 'therapist key must be 32 bytes');
  return concatBytes(utf8('qpc-fapp-v1/challenge\u0000'), challenge, therapistKey);
}

/** Therapist side: answers a challenge. */
export function signChallenge(therapist: SigningKeyPair, challenge: Uint8Array): Uint8Array {
  return sign(therapist.secretKey, challengeSigningInput(challenge, therapist.publicKey));
}

/** Server side: BAD_SIGNATURE unless `signature` answers `challenge` for `therapistKey`. */
export function verifyChallenge(therapistKey: Uint8Array, challenge: Uint8Array, signature: Uint8Array): void {
  if (signature.length !== ED25519_SIGNATURE_BYTES) fail('BAD_SIGNATURE', 'signature must be 64 bytes');
  if (!verify(therapistKey, challengeSigningInput(challenge, therapistKey), signature)) fail('BAD_SIGNATURE', 'challenge signature does not verify');
}
