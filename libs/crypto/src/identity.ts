import { provider } from '#provider';
import { expectBytes, randomBytes, sha256, toHex, zeroize } from './bytes.js';
import { CryptoError } from './errors.js';

/** Ed25519 identity. `secretKey` is the 32-byte RFC 8032 seed. */
export interface SigningKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export const SIGNATURE_LENGTH = 64;
export const PUBLIC_KEY_LENGTH = 32;

export function generateSigningKeyPair(): SigningKeyPair {
  const seed = randomBytes(32);
  return { publicKey: provider.ed25519PublicKey(seed), secretKey: seed };
}

/** Derives the key pair from a 32-byte seed. The returned secretKey is a copy; wipe the input yourself. */
export function signingKeyPairFromSeed(seed: Uint8Array): SigningKeyPair {
  expectBytes(seed, 32, 'Ed25519 seed', 'INVALID_KEY');
  return { publicKey: provider.ed25519PublicKey(seed), secretKey: seed.slice() };
}

/** Deterministic Ed25519 signature (64 bytes). */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  expectBytes(secretKey, 32, 'Ed25519 secret key', 'INVALID_KEY');
  expectBytes(message, undefined, 'message');
  return provider.ed25519Sign(secretKey, message);
}

/** Strict RFC 8032 verification. Returns false for any bad input; never throws. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  if (!(message instanceof Uint8Array)) return false;
  return provider.ed25519Verify(publicKey, message, signature);
}

/** Like verify(), but throws CryptoError('BAD_SIGNATURE'). */
export function assertSignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void {
  if (!verify(publicKey, message, signature)) throw new CryptoError('BAD_SIGNATURE');
}

/**
 * Human-readable fingerprint: the first 20 bytes (160 bits) of SHA-256(publicKey) as upper-case
 * hex in 10 groups of 4, separated by spaces, e.g. `3F2A 9C01 …`.
 */
export function fingerprint(publicKey: Uint8Array): string {
  expectBytes(publicKey, undefined, 'public key', 'INVALID_KEY');
  const h = sha256(publicKey);
  const hex = toHex(h.subarray(0, 20)).toUpperCase();
  zeroize(h);
  return hex.match(/.{4}/g)!.join(' ');
}

/** 16-byte mesh address: SHA-256(publicKey)[0..16]. */
export function meshAddress(publicKey: Uint8Array): Uint8Array {
  expectBytes(publicKey, undefined, 'public key', 'INVALID_KEY');
  return sha256(publicKey).slice(0, 16);
}
