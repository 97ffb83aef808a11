import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { XWing } from '@hpke/hybridkem-x-wing';
import { concatBytes, expectBytes, utf8, zeroize } from './bytes.js';
import { CryptoError } from './errors.js';
import { pad, unpad } from './padding.js';
import { XWING_CIPHERTEXT_LENGTH, XWING_PUBLIC_KEY_LENGTH, XWING_SEED_LENGTH } from './xwing.js';

/**
 * Sealed box: HPKE (RFC 9180) base mode, KEM X-Wing (0x647a), KDF HKDF-SHA256, AEAD
 * ChaCha20-Poly1305. Layout: `0x01 (version) || enc (1120 bytes) || HPKE ciphertext`.
 * The HPKE `info` is `"quicprochat/seal/v1" || 0x00 || opts.info`; `aad` goes to the AEAD.
 * The plaintext is padded (see padding.ts) before encryption.
 */
export const SEAL_VERSION = 0x01;
export const SEAL_OVERHEAD = 1 + XWING_CIPHERTEXT_LENGTH + 16;
const INFO_PREFIX = utf8('quicprochat/seal/v1\u0000');
const EMPTY = new Uint8Array(0);

let suite: CipherSuite | undefined;
function hpke(): CipherSuite {
  suite ??= new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
  return suite;
}

export interface SealOptions {
  info?: Uint8Array;
  aad?: Uint8Array;
  /** Padding bucket in bytes; default Padmé with a 256-byte floor. */
  padTo?: number;
}

export async function seal(recipientPublicKey: Uint8Array, plaintext: Uint8Array, opts: SealOptions = {}): Promise<Uint8Array> {
  expectBytes(recipientPublicKey, XWING_PUBLIC_KEY_LENGTH, 'recipient public key', 'INVALID_KEY');
  expectBytes(plaintext, undefined, 'plaintext');
  const padded = pad(plaintext, opts.padTo);
  const s = hpke();
  let key: CryptoKey;
  try {
    key = await s.kem.deserializePublicKey(recipientPublicKey);
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'recipient public key rejected', { cause: e });
  }
  try {
    const { enc, ct } = await s.seal(
      { recipientPublicKey: key, info: concatBytes(INFO_PREFIX, opts.info ?? EMPTY) },
      padded,
      opts.aad ?? EMPTY,
    );
    return concatBytes(Uint8Array.of(SEAL_VERSION), new Uint8Array(enc), new Uint8Array(ct));
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'sealing failed', { cause: e });
  } finally {
    zeroize(padded);
  }
}

/** Opens a sealed box. Any tampering (or the wrong key / info / aad) is CryptoError('DECRYPT_FAILED'). */
export async function open(recipientSecretKey: Uint8Array, sealed: Uint8Array, opts: { info?: Uint8Array; aad?: Uint8Array } = {}): Promise<Uint8Array> {
  expectBytes(recipientSecretKey, XWING_SEED_LENGTH, 'recipient secret key', 'INVALID_KEY');
  if (!(sealed instanceof Uint8Array)) throw new CryptoError('MALFORMED', 'sealed box must be a Uint8Array');
  if (sealed.length < SEAL_OVERHEAD + 1) throw new CryptoError('MALFORMED', 'sealed box too short');
  if (sealed[0] !== SEAL_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', `sealed box version ${sealed[0]}`);
  const s = hpke();
  let key: CryptoKey;
  try {
    key = await s.kem.deserializePrivateKey(recipientSecretKey);
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'secret key rejected', { cause: e });
  }
  let padded: Uint8Array;
  try {
    const pt = await s.open(
      {
        recipientKey: key,
        enc: sealed.slice(1, 1 + XWING_CIPHERTEXT_LENGTH),
        info: concatBytes(INFO_PREFIX, opts.info ?? EMPTY),
      },
      sealed.subarray(1 + XWING_CIPHERTEXT_LENGTH),
      opts.aad ?? EMPTY,
    );
    padded = new Uint8Array(pt);
  } catch (e) {
    throw new CryptoError('DECRYPT_FAILED', undefined, { cause: e });
  }
  try {
    return unpad(padded).slice();
  } catch (e) {
    // Authenticated but badly padded: only a sender that bypassed seal() produces this.
    throw new CryptoError('DECRYPT_FAILED', 'bad padding', { cause: e });
  } finally {
    zeroize(padded);
  }
}
