import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { expectBytes, randomBytes } from './bytes.js';
import { wrapErrors } from './errors.js';

// X-Wing (draft-connolly-cfrg-xwing-kem): X25519 + ML-KEM-768. noble exports it as
// ml_kem768_x25519; there is no native ML-KEM on Node 20, so both platforms use noble.

/** X-Wing key pair. `secretKey` is the 32-byte seed the draft defines as the decapsulation key. */
export interface KemKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export const XWING_SEED_LENGTH = 32;
export const XWING_PUBLIC_KEY_LENGTH = 1216;
export const XWING_CIPHERTEXT_LENGTH = 1120;
export const XWING_ESEED_LENGTH = 64;

/** Key pair from a 32-byte seed (random if omitted). The returned secretKey is a copy of the seed. */
export function generateKemKeyPair(seed?: Uint8Array): KemKeyPair {
  const s = seed === undefined ? randomBytes(XWING_SEED_LENGTH) : seed.slice();
  expectBytes(s, XWING_SEED_LENGTH, 'X-Wing seed', 'INVALID_KEY');
  const { publicKey } = wrapErrors('INVALID_KEY', () => ml_kem768_x25519.keygen(s));
  return { publicKey, secretKey: s };
}

/** Public key of a 32-byte X-Wing secret key (seed). */
export function kemPublicKey(secretKey: Uint8Array): Uint8Array {
  expectBytes(secretKey, XWING_SEED_LENGTH, 'X-Wing secret key', 'INVALID_KEY');
  return wrapErrors('INVALID_KEY', () => ml_kem768_x25519.getPublicKey(secretKey));
}

/**
 * Encapsulates a fresh shared secret (32 bytes) to `publicKey`. `eseed` (64 bytes) makes it
 * deterministic and exists for test vectors only: never reuse one.
 */
export function xwingEncapsulate(publicKey: Uint8Array, eseed?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  expectBytes(publicKey, XWING_PUBLIC_KEY_LENGTH, 'X-Wing public key', 'INVALID_KEY');
  if (eseed !== undefined) expectBytes(eseed, XWING_ESEED_LENGTH, 'X-Wing eseed');
  return wrapErrors('INVALID_KEY', () => ml_kem768_x25519.encapsulate(publicKey, eseed));
}

/** Decapsulates; ML-KEM's implicit rejection means a tampered ciphertext yields an unrelated secret. */
export function xwingDecapsulate(secretKey: Uint8Array, cipherText: Uint8Array): Uint8Array {
  expectBytes(secretKey, XWING_SEED_LENGTH, 'X-Wing secret key', 'INVALID_KEY');
  expectBytes(cipherText, XWING_CIPHERTEXT_LENGTH, 'X-Wing ciphertext', 'MALFORMED');
  return wrapErrors('MALFORMED', () => ml_kem768_x25519.decapsulate(cipherText, secretKey));
}
