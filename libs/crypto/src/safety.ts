import { provider } from '#provider';
import { concatBytes, constantTimeEqual, expectBytes } from './bytes.js';
import { CryptoError } from './errors.js';

/**
 * Safety numbers for verifying a contact (the scheme of Signal's NumericFingerprint, made
 * symmetric): per party, h = SHA-512(0x0000 || publicKey || stableId), then 5199 more rounds of
 * h = SHA-512(h || publicKey). The first 30 bytes give six 5-byte chunks, each read as a
 * big-endian integer mod 100000 and printed as 5 digits: 30 digits per party. The two halves
 * are sorted, so both sides see the same 60 digits. The QR payload is
 * 0x01 || the two parties' first 32 hash bytes, in the same sorted order.
 */
export interface SafetyParty {
  /** Ed25519 identity key (32 bytes). */
  publicKey: Uint8Array;
  /** Stable account identifier (e.g. the account id bytes). */
  stableId: Uint8Array;
}

export interface SafetyNumber {
  /** 60 digits. */
  digits: string;
  /** 12 groups of 5 digits, for display. */
  groups: string[];
  /** Bytes to put into a QR code; compare with verifySafetyQr. */
  qrPayload: Uint8Array;
}

const ITERATIONS = 5200;
const QR_VERSION = 0x01;

function partyHash(p: SafetyParty): Uint8Array {
  expectBytes(p.publicKey, 32, 'identity key', 'INVALID_KEY');
  expectBytes(p.stableId, undefined, 'stable id');
  let h = provider.sha512(concatBytes(new Uint8Array(2), p.publicKey, p.stableId));
  const buf = new Uint8Array(64 + 32);
  buf.set(p.publicKey, 64);
  for (let i = 1; i < ITERATIONS; i++) {
    buf.set(h, 0);
    h = provider.sha512(buf);
  }
  return h;
}

function digitsOf(h: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 30; i += 5) {
    const v = h[i]! * 2 ** 32 + ((h[i + 1]! << 24) >>> 0) + (h[i + 2]! << 16) + (h[i + 3]! << 8) + h[i + 4]!;
    s += String(v % 100000).padStart(5, '0');
  }
  return s;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function safetyNumber(a: SafetyParty, b: SafetyParty): SafetyNumber {
  const ha = partyHash(a);
  const hb = partyHash(b);
  const da = digitsOf(ha);
  const db = digitsOf(hb);
  const digits = da <= db ? da + db : db + da;
  const [first, second] = compare(ha, hb) <= 0 ? [ha, hb] : [hb, ha];
  const qrPayload = concatBytes(Uint8Array.of(QR_VERSION), first.subarray(0, 32), second.subarray(0, 32));
  return { digits, groups: digits.match(/.{5}/g)!, qrPayload };
}

/** True iff a scanned QR payload matches the safety number of `a` and `b`. Never throws on bad payloads. */
export function verifySafetyQr(scanned: Uint8Array, a: SafetyParty, b: SafetyParty): boolean {
  if (!(scanned instanceof Uint8Array) || scanned.length !== 65 || scanned[0] !== QR_VERSION) return false;
  try {
    return constantTimeEqual(scanned, safetyNumber(a, b).qrPayload);
  } catch (e) {
    if (e instanceof CryptoError) return false;
    throw e;
  }
}
