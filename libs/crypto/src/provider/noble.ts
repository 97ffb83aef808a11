import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import type { CryptoProvider } from './types.js';

// getRandomValues fills at most 65536 bytes per call.
const RANDOM_CHUNK = 65536;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += RANDOM_CHUNK) {
    globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + RANDOM_CHUNK)));
  }
  return out;
}

/** Pure-JS provider (noble): the browser path, and the reference the Node path is tested against. */
export const nobleProvider: CryptoProvider = {
  name: 'noble',
  randomBytes,
  sha256: (d) => sha256(d),
  sha512: (d) => sha512(d),
  hmacSha256: (k, d) => hmac(sha256, k, d),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, msg) => ed25519.sign(msg, seed),
  ed25519Verify: (pk, msg, sig) => {
    try {
      return ed25519.verify(sig, msg, pk, { zip215: false });
    } catch {
      return false;
    }
  },
  x25519PublicKey: (sk) => x25519.getPublicKey(sk),
  x25519SharedSecret: (sk, pk) => x25519.getSharedSecret(sk, pk),
  aesGcmEncrypt: (key, nonce, pt, aad) => gcm(key, nonce, aad).encrypt(pt),
  aesGcmDecrypt: (key, nonce, ct, aad) => gcm(key, nonce, aad).decrypt(ct),
  chacha20Poly1305Encrypt: (key, nonce, pt, aad) => chacha20poly1305(key, nonce, aad).encrypt(pt),
  chacha20Poly1305Decrypt: (key, nonce, ct, aad) => chacha20poly1305(key, nonce, aad).decrypt(ct),
};
