/**
 * The primitives that have a native implementation on Node (node:crypto) and a pure-JS one
 * in the browser (noble). Both implementations must return identical bytes for identical
 * inputs; `provider.spec.ts` checks that. Everything else (X-Wing, XChaCha20, Argon2id)
 * has no native Node path and always uses noble.
 */
export interface CryptoProvider {
  readonly name: 'node' | 'noble';
  randomBytes(n: number): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** Ed25519 with the 32-byte seed as secret key (RFC 8032). */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** Strict RFC 8032 verification (no ZIP-215 leniency), so both providers agree. Never throws. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  x25519PublicKey(secretKey: Uint8Array): Uint8Array;
  x25519SharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** AEADs return ciphertext || 16-byte tag; decrypt throws on a bad tag. */
  aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array;
  chacha20Poly1305Encrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  chacha20Poly1305Decrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array;
}
