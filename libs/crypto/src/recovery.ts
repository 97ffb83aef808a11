import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { concatBytes, constantTimeEqual, hkdfSha256, randomBytes, utf8, zeroize } from './bytes.js';
import { CryptoError } from './errors.js';
import { open, seal } from './seal.js';
import { generateKemKeyPair } from './xwing.js';

/**
 * Recovery codes: 8 one-time codes, each of which opens the recovery bundle.
 *
 * Code: 100 random bits as 20 Crockford base32 characters, shown as XXXXX-XXXXX-XXXXX-XXXXX.
 * From a code's 13-byte value v: seed = HKDF-SHA256(v, salt "quicprochat/recovery/v1",
 * info "xwing-seed", 32) -> X-Wing key pair; codeId = HKDF(…, info "code-id", 16).
 * The bundle encrypts the secret under a random data key DK (XChaCha20-Poly1305) and seals DK
 * to every code's X-Wing public key (see seal.ts), so a new bundle for a new secret can be made
 * from the public slot keys alone, without the codes.
 *
 * Bundle layout: "QRCB" | version u8 = 1 | slots u8 | used u8 |
 *   slots × (codeId 16 | sealed DK, 1170 bytes) | used × codeId 16 |
 *   nonce 24 | XChaCha20-Poly1305(DK, nonce, secret, aad = everything before the nonce)
 * Opening with a code removes its slot and records its id as used in the returned bundle; the
 * caller stores that bundle (the server can also refuse used code ids it has seen). One-time
 * use therefore rests on whoever stores the bundle not serving an old copy.
 */
export const RECOVERY_CODE_COUNT = 8;
const MAGIC = utf8('QRCB');
const VERSION = 1;
const SALT = utf8('quicprochat/recovery/v1');
const SLOT_INFO = utf8('quicprochat/recovery/slot');
const SEALED_DK = 1 + 1120 + 33 + 16; // version + enc + padded(32 bytes, bucket 1) + tag
const SLOT = 16 + SEALED_DK;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export interface RecoverySlotKey {
  codeId: Uint8Array;
  publicKey: Uint8Array;
}

function encodeCode(v: Uint8Array): string {
  let bits = 0;
  let acc = 0;
  let s = '';
  for (const b of v) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5 && s.length < 20) {
      bits -= 5;
      s += ALPHABET[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return s.match(/.{5}/g)!.join('-');
}

/** Parses a typed code (case-insensitive, dashes/spaces ignored, O->0, I/L->1). */
export function parseRecoveryCode(code: string): Uint8Array {
  if (typeof code !== 'string') throw new CryptoError('RECOVERY_CODE_INVALID');
  const s = code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (s.length !== 20) throw new CryptoError('RECOVERY_CODE_INVALID', 'a recovery code has 20 characters');
  const out = new Uint8Array(13);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new CryptoError('RECOVERY_CODE_INVALID', `invalid character ${ch}`);
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  out[12] = (acc << (8 - bits)) & 0xff; // the last 4 bits
  return out;
}

function codeKeys(value: Uint8Array): { codeId: Uint8Array; seed: Uint8Array } {
  return { codeId: hkdfSha256(value, SALT, utf8('code-id'), 16), seed: hkdfSha256(value, SALT, utf8('xwing-seed'), 32) };
}

/** Eight fresh codes (show them once) and the public slot keys to build bundles with. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): { codes: string[]; slots: RecoverySlotKey[] } {
  const codes: string[] = [];
  const slots: RecoverySlotKey[] = [];
  for (let i = 0; i < count; i++) {
    const v = randomBytes(13);
    v[12]! &= 0xf0; // 100 bits
    const { codeId, seed } = codeKeys(v);
    const kp = generateKemKeyPair(seed);
    slots.push({ codeId, publicKey: kp.publicKey });
    codes.push(encodeCode(v));
    zeroize(v, seed, kp.secretKey);
  }
  return { codes, slots };
}

function header(slots: number, used: number): Uint8Array {
  return concatBytes(MAGIC, Uint8Array.of(VERSION, slots, used));
}

async function build(slots: { codeId: Uint8Array; sealed: Uint8Array }[], used: Uint8Array[], dk: Uint8Array, secret: Uint8Array): Promise<Uint8Array> {
  const body = concatBytes(header(slots.length, used.length), ...slots.flatMap((s) => [s.codeId, s.sealed]), ...used);
  const nonce = randomBytes(24);
  return concatBytes(body, nonce, xchacha20poly1305(dk, nonce, body).encrypt(secret));
}

/** Encrypts `secret` so that any one of the slots' codes opens it. */
export async function createRecoveryBundle(slots: RecoverySlotKey[], secret: Uint8Array): Promise<Uint8Array> {
  if (slots.length < 1 || slots.length > 255) throw new CryptoError('INVALID_ARGUMENT', '1..255 slots');
  const dk = randomBytes(32);
  try {
    const sealed = await Promise.all(
      slots.map(async (s) => ({ codeId: s.codeId, sealed: await seal(s.publicKey, dk, { info: concatBytes(SLOT_INFO, s.codeId), padTo: 1 }) })),
    );
    return await build(sealed, [], dk, secret);
  } finally {
    zeroize(dk);
  }
}

interface ParsedBundle {
  slots: { codeId: Uint8Array; sealed: Uint8Array }[];
  used: Uint8Array[];
  body: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

function parse(b: Uint8Array): ParsedBundle {
  if (!(b instanceof Uint8Array) || b.length < 7) throw new CryptoError('MALFORMED', 'recovery bundle too short');
  if (!constantTimeEqual(b.subarray(0, 4), MAGIC)) throw new CryptoError('MALFORMED', 'not a recovery bundle');
  if (b[4] !== VERSION) throw new CryptoError('UNSUPPORTED_VERSION', `recovery bundle version ${b[4]}`);
  const n = b[5]!;
  const u = b[6]!;
  const bodyLen = 7 + n * SLOT + u * 16;
  if (b.length < bodyLen + 24 + 16) throw new CryptoError('MALFORMED', 'recovery bundle truncated');
  const slots = Array.from({ length: n }, (_, i) => {
    const off = 7 + i * SLOT;
    return { codeId: b.subarray(off, off + 16), sealed: b.subarray(off + 16, off + SLOT) };
  });
  const used = Array.from({ length: u }, (_, i) => b.subarray(7 + n * SLOT + i * 16, 7 + n * SLOT + (i + 1) * 16));
  return { slots, used, body: b.subarray(0, bodyLen), nonce: b.subarray(bodyLen, bodyLen + 24), ciphertext: b.subarray(bodyLen + 24) };
}

/** Code ids still usable in a bundle (no secrets needed). */
export function recoveryBundleCodeIds(bundle: Uint8Array): { open: Uint8Array[]; used: Uint8Array[] } {
  const p = parse(bundle);
  return { open: p.slots.map((s) => s.codeId), used: p.used };
}

/**
 * Opens the bundle with one code. Returns the secret and the bundle to store from now on, in
 * which this code no longer works (RECOVERY_CODE_USED). A code that never belonged to the
 * bundle is RECOVERY_CODE_INVALID.
 */
export async function openRecoveryBundle(bundle: Uint8Array, code: string): Promise<{ secret: Uint8Array; bundle: Uint8Array }> {
  const p = parse(bundle);
  const value = parseRecoveryCode(code);
  const { codeId, seed } = codeKeys(value);
  zeroize(value);
  try {
    if (p.used.some((id) => constantTimeEqual(id, codeId))) throw new CryptoError('RECOVERY_CODE_USED');
    const slot = p.slots.find((s) => constantTimeEqual(s.codeId, codeId));
    if (!slot) throw new CryptoError('RECOVERY_CODE_INVALID');
    let dk: Uint8Array;
    try {
      dk = await open(seed, slot.sealed, { info: concatBytes(SLOT_INFO, codeId) });
    } catch (e) {
      throw new CryptoError('DECRYPT_FAILED', 'recovery slot does not open', { cause: e });
    }
    try {
      let secret: Uint8Array;
      try {
        secret = xchacha20poly1305(dk, p.nonce, p.body).decrypt(p.ciphertext);
      } catch (e) {
        throw new CryptoError('DECRYPT_FAILED', 'recovery bundle damaged', { cause: e });
      }
      const rest = p.slots.filter((s) => s !== slot).map((s) => ({ codeId: s.codeId.slice(), sealed: s.sealed.slice() }));
      const next = await build(rest, [...p.used.map((x) => x.slice()), codeId.slice()], dk, secret);
      return { secret, bundle: next };
    } finally {
      zeroize(dk);
    }
  } finally {
    zeroize(seed);
  }
}
