import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { concatBytes, expectBytes, randomBytes, utf8, zeroize } from './bytes.js';
import { CryptoError } from './errors.js';

/**
 * Local vault: a password-protected blob for the device (keys, group states, settings).
 *
 * Layout (all integers big-endian):
 *   "QVLT" | version u8 = 1 | kdf u8 = 1 (Argon2id v1.3) | m KiB u32 | t u32 | p u8 |
 *   salt (16) | nonce (24) | XChaCha20-Poly1305(key, nonce, plaintext, aad = the 55 header bytes)
 * key = Argon2id(password, salt, m, t, p, 32 bytes). Every header byte is authenticated.
 * A wrong password and a tampered blob are indistinguishable: both are WRONG_PASSWORD.
 *
 * JavaScript cannot wipe a password passed as a string; pass a Uint8Array and zeroize it if
 * that matters. The derived key is wiped after use.
 */
export interface VaultParams {
  /** Memory in KiB. */
  m: number;
  /** Passes. */
  t: number;
  /** Lanes. */
  p: number;
}

/** OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane): ~0.3-0.6 s in pure JS. */
export const DEFAULT_VAULT_PARAMS: VaultParams = { m: 19_456, t: 2, p: 1 };
/** Limits accepted when opening, so a crafted header cannot make us allocate gigabytes. */
export const MAX_VAULT_PARAMS: VaultParams = { m: 1_048_576, t: 16, p: 8 };

const MAGIC = utf8('QVLT');
const VERSION = 1;
const KDF_ARGON2ID = 1;
const HEADER = 55;

function checkParams(v: VaultParams, code: 'INVALID_ARGUMENT' | 'MALFORMED'): void {
  const ok =
    Number.isInteger(v.m) && Number.isInteger(v.t) && Number.isInteger(v.p) &&
    v.p >= 1 && v.p <= MAX_VAULT_PARAMS.p && v.t >= 1 && v.t <= MAX_VAULT_PARAMS.t && v.m >= 8 * v.p && v.m <= MAX_VAULT_PARAMS.m;
  if (!ok) throw new CryptoError(code, 'Argon2id parameters out of range');
}

function pw(password: string | Uint8Array): Uint8Array {
  if (typeof password === 'string') return utf8(password);
  if (password instanceof Uint8Array) return password;
  throw new CryptoError('INVALID_ARGUMENT', 'password must be a string or Uint8Array');
}

/** Argon2id(password, salt) -> 32-byte key. */
export async function deriveVaultKey(password: string | Uint8Array, salt: Uint8Array, params: VaultParams = DEFAULT_VAULT_PARAMS): Promise<Uint8Array> {
  checkParams(params, 'INVALID_ARGUMENT');
  expectBytes(salt, 16, 'salt');
  const p = pw(password);
  try {
    return await argon2idAsync(p, salt, { m: params.m, t: params.t, p: params.p, dkLen: 32, asyncTick: 20 });
  } finally {
    if (typeof password === 'string') zeroize(p);
  }
}

export async function encryptVault(password: string | Uint8Array, plaintext: Uint8Array, opts: { params?: VaultParams } = {}): Promise<Uint8Array> {
  expectBytes(plaintext, undefined, 'plaintext');
  const params = opts.params ?? DEFAULT_VAULT_PARAMS;
  checkParams(params, 'INVALID_ARGUMENT');
  const header = new Uint8Array(HEADER);
  const dv = new DataView(header.buffer);
  header.set(MAGIC);
  header[4] = VERSION;
  header[5] = KDF_ARGON2ID;
  dv.setUint32(6, params.m);
  dv.setUint32(10, params.t);
  header[14] = params.p;
  header.set(randomBytes(16), 15);
  header.set(randomBytes(24), 31);
  const key = await deriveVaultKey(password, header.subarray(15, 31), params);
  try {
    return concatBytes(header, xchacha20poly1305(key, header.subarray(31, 55), header).encrypt(plaintext));
  } finally {
    zeroize(key);
  }
}

/** Reads the header without the password (e.g. to show the cost before unlocking). */
export function vaultParams(blob: Uint8Array): VaultParams {
  if (!(blob instanceof Uint8Array) || blob.length < HEADER + 16) throw new CryptoError('MALFORMED', 'vault too short');
  for (let i = 0; i < 4; i++) if (blob[i] !== MAGIC[i]) throw new CryptoError('MALFORMED', 'not a vault');
  if (blob[4] !== VERSION) throw new CryptoError('UNSUPPORTED_VERSION', `vault version ${blob[4]}`);
  if (blob[5] !== KDF_ARGON2ID) throw new CryptoError('UNSUPPORTED_VERSION', `vault kdf ${blob[5]}`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const params = { m: dv.getUint32(6), t: dv.getUint32(10), p: blob[14]! };
  checkParams(params, 'MALFORMED');
  return params;
}

export async function decryptVault(password: string | Uint8Array, blob: Uint8Array): Promise<Uint8Array> {
  const params = vaultParams(blob);
  const header = blob.subarray(0, HEADER);
  const key = await deriveVaultKey(password, header.subarray(15, 31), params);
  try {
    return xchacha20poly1305(key, header.subarray(31, 55), header).decrypt(blob.subarray(HEADER));
  } catch (e) {
    throw new CryptoError('WRONG_PASSWORD', 'wrong password or damaged vault', { cause: e });
  } finally {
    zeroize(key);
  }
}
