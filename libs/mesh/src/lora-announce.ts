import { concatBytes, constantTimeEqual, sha256, sign, verify, type SigningKeyPair } from '@qpc/crypto';
import { isValidLanguage, isValidPlz, MAX_ANNOUNCE_TTL_MS, MAX_LANGUAGES, MAX_SLOT_HORIZON_MS, MAX_SLOTS, MINUTE_MS, type Announce, type SlotDuration } from '@qpc/fapp';
import { Terminart, type Altersgruppe, type Fachrichtung, type Kostentraeger, type Modalitaet } from '@qpc/proto';
import { meshSigningInput } from './codec.js';
import { meshFail } from './errors.js';

/**
 * Compact SlotAnnounce for the LoRa link: the searchable facts of a validated announce in a
 * dense bit layout, signed by the therapist key. It is a teaser, not a replacement: slot ids,
 * the X-Wing key, the licence attestation, display name and profile URL stay out, so booking
 * needs the full signed announce (fetched later over any link). A receiver trusts a compact
 * announce only after verifyCompactAnnounce() with the therapist key the key reference names,
 * and can check it against the full announce with compactMatchesAnnounce().
 *
 * Body (bits, MSB first, zero-padded to a byte):
 *   version 8 | key ref 64 = SHA-256(therapist key)[0..8] | sequence: byte count 3 + bytes
 *   | PLZ 17 | barrier-free 1 | Fachrichtungen 4 | Altersgruppen 2 | Modalitäten 3 | Kostenträger 4
 *   | language count 5, each: 3-letter 1 + 3 x 5 bits (a..z) | issued_at 32 (minutes since 2024-01-01 UTC)
 *   | expires 16 (minutes after issued) | slot count 9, each: start 18 (minutes after issued)
 *   | duration 2 (25/50/100) | Terminart 3 | group size 3 (0, or 3..9 as 1..7)
 * Wire: body || Ed25519 signature (64) over "qpc-mesh-v1/lora-announce" 0x00 || body.
 * Times are whole minutes (issued_at and expires_at rounded down).
 */
export const COMPACT_ANNOUNCE_VERSION = 1;
export const COMPACT_KEY_REF_BYTES = 8;
export const COMPACT_SIGNATURE_BYTES = 64;
/** Minute 0 of the compact time axis: 2024-01-01T00:00Z. */
export const COMPACT_EPOCH_MS = Date.UTC(2024, 0, 1);
const MAX_EXPIRY_MINUTES = MAX_ANNOUNCE_TTL_MS / MINUTE_MS;
const MAX_START_MINUTES = MAX_SLOT_HORIZON_MS / MINUTE_MS;
const DURATIONS: readonly SlotDuration[] = [25, 50, 100];
/** Largest compact announce (256 slots, 16 languages, a 7-byte sequence) plus its signature. */
export const MAX_COMPACT_ANNOUNCE_BYTES = Math.ceil((8 + 64 + 3 + 56 + 31 + 5 + 16 * 16 + 32 + 16 + 9 + MAX_SLOTS * 26) / 8) + COMPACT_SIGNATURE_BYTES;

export interface CompactSlot {
  startMs: number;
  durationMinutes: SlotDuration;
  terminart: Terminart;
  groupSize: number;
}

export interface CompactAnnounce {
  /** First 8 bytes of SHA-256(therapist key): look the key up by it. */
  keyRef: Uint8Array;
  sequence: number;
  plz: string;
  barrierFree: boolean;
  fachrichtungen: Fachrichtung[];
  altersgruppen: Altersgruppe[];
  modalitaeten: Modalitaet[];
  kostentraeger: Kostentraeger[];
  languages: string[];
  issuedAtMs: number;
  expiresAtMs: number;
  slots: CompactSlot[];
  /** The signed body and its signature, as received. */
  body: Uint8Array;
  signature: Uint8Array;
}

class BitWriter {
  private readonly bits: number[] = [];
  write(value: number, width: number): void {
    for (let i = width - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => {
      out[i >> 3]! |= b << (7 - (i & 7));
    });
    return out;
  }
}

class BitReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  read(width: number): number {
    if (this.pos + width > this.buf.length * 8) meshFail('MALFORMED', 'compact announce ends early');
    let v = 0;
    for (let i = 0; i < width; i++, this.pos++) v = v * 2 + ((this.buf[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1);
    return v;
  }
  /** Padding must be zero and nothing may follow it. */
  finish(): void {
    const end = Math.ceil(this.pos / 8) * 8;
    if (end !== this.buf.length * 8) meshFail('MALFORMED', 'trailing bytes after the compact announce');
    if (this.read(end - this.pos) !== 0) meshFail('MALFORMED', 'non-zero padding');
  }
}

function writeSet(w: BitWriter, values: readonly number[], width: number): void {
  let mask = 0;
  for (const v of values) {
    if (!Number.isInteger(v) || v < 1 || v > width) meshFail('MALFORMED', `enum value ${v} has no compact bit`);
    mask |= 1 << (v - 1);
  }
  w.write(mask, width);
}

function readSet<T extends number>(r: BitReader, width: number): T[] {
  const mask = r.read(width);
  const out: T[] = [];
  for (let v = 1; v <= width; v++) if (mask & (1 << (v - 1))) out.push(v as T);
  return out;
}

export function therapistKeyRef(therapistKey: Uint8Array): Uint8Array {
  return sha256(therapistKey).slice(0, COMPACT_KEY_REF_BYTES);
}

/** The deterministic compact body of a validated announce (the same announce gives the same bytes). */
export function compactAnnounceBody(a: Announce): Uint8Array {
  const w = new BitWriter();
  w.write(COMPACT_ANNOUNCE_VERSION, 8);
  for (const b of therapistKeyRef(a.therapistKey)) w.write(b, 8);
  if (!Number.isSafeInteger(a.sequence) || a.sequence < 0) meshFail('MALFORMED', 'sequence must be a safe non-negative integer');
  let seqBytes = 0;
  while (2 ** (8 * seqBytes) <= a.sequence) seqBytes++;
  w.write(seqBytes, 3);
  w.write(a.sequence, 8 * seqBytes);
  if (!isValidPlz(a.plz)) meshFail('MALFORMED', 'invalid PLZ');
  w.write(Number(a.plz), 17);
  w.write(a.barrierFree ? 1 : 0, 1);
  writeSet(w, a.fachrichtungen, 4);
  writeSet(w, a.altersgruppen, 2);
  writeSet(w, a.modalitaeten, 3);
  writeSet(w, a.kostentraeger, 4);
  if (a.languages.length > MAX_LANGUAGES) meshFail('TOO_LARGE', `at most ${MAX_LANGUAGES} languages`);
  w.write(a.languages.length, 5);
  for (const lang of a.languages) {
    if (!/^[a-z]{2,3}$/.test(lang)) meshFail('MALFORMED', `language ${lang} has no compact form`);
    w.write(lang.length === 3 ? 1 : 0, 1);
    for (let i = 0; i < 3; i++) w.write(i < lang.length ? lang.charCodeAt(i) - 97 : 0, 5);
  }
  const issuedMin = Math.floor((a.issuedAtMs - COMPACT_EPOCH_MS) / MINUTE_MS);
  if (issuedMin < 0 || issuedMin > 0xffff_ffff) meshFail('MALFORMED', 'issued_at outside the compact time axis');
  w.write(issuedMin, 32);
  const expiresMin = Math.floor((a.expiresAtMs - COMPACT_EPOCH_MS) / MINUTE_MS) - issuedMin;
  if (expiresMin < 1 || expiresMin > MAX_EXPIRY_MINUTES) meshFail('MALFORMED', 'expires_at outside 1 minute..30 days after issued_at');
  w.write(expiresMin, 16);
  if (a.slots.length > MAX_SLOTS) meshFail('TOO_LARGE', `at most ${MAX_SLOTS} slots`);
  w.write(a.slots.length, 9);
  for (const s of a.slots) {
    if (s.startMs % MINUTE_MS !== 0) meshFail('MALFORMED', 'slot start must be a whole minute');
    const start = (s.startMs - COMPACT_EPOCH_MS) / MINUTE_MS - issuedMin;
    if (start < 0 || start > MAX_START_MINUTES) meshFail('MALFORMED', 'slot start outside 0..180 days after issued_at');
    const d = DURATIONS.indexOf(s.durationMinutes);
    if (d < 0) meshFail('MALFORMED', 'slot duration must be 25, 50 or 100');
    if (!Number.isInteger(s.terminart) || s.terminart < 1 || s.terminart > Terminart.GRUPPE) meshFail('MALFORMED', 'unknown Terminart');
    const group = s.terminart === Terminart.GRUPPE ? s.groupSize - 2 : 0;
    if (s.terminart === Terminart.GRUPPE && (group < 1 || group > 7)) meshFail('MALFORMED', 'group size must be 3..9');
    w.write(start, 18);
    w.write(d, 2);
    w.write(s.terminart, 3);
    w.write(group, 3);
  }
  return w.bytes();
}

/** Therapist side: compact body signed by the therapist key that signed the full announce. */
export function encodeCompactAnnounce(a: Announce, therapist: SigningKeyPair): Uint8Array {
  if (!constantTimeEqual(therapist.publicKey, a.therapistKey)) meshFail('INVALID_KEY', 'only the announce’s own therapist key signs its compact form');
  const body = compactAnnounceBody(a);
  return concatBytes(body, sign(therapist.secretKey, meshSigningInput('lora-announce', body)));
}

/**
 * Structural decode with every field validated; the result is NOT yet trusted (no key has
 * been checked). Malformed bytes are a MeshError.
 */
export function decodeCompactAnnounce(bytes: Uint8Array): CompactAnnounce {
  if (!(bytes instanceof Uint8Array)) meshFail('MALFORMED', 'expected bytes');
  if (bytes.length > MAX_COMPACT_ANNOUNCE_BYTES) meshFail('TOO_LARGE', `compact announce above ${MAX_COMPACT_ANNOUNCE_BYTES} bytes`);
  if (bytes.length <= COMPACT_SIGNATURE_BYTES) meshFail('MALFORMED', 'compact announce shorter than its signature');
  const body = bytes.slice(0, bytes.length - COMPACT_SIGNATURE_BYTES);
  const signature = bytes.slice(bytes.length - COMPACT_SIGNATURE_BYTES);
  const r = new BitReader(body);
  const version = r.read(8);
  if (version !== COMPACT_ANNOUNCE_VERSION) meshFail('MALFORMED', `compact announce version ${version}`);
  const keyRef = Uint8Array.from({ length: COMPACT_KEY_REF_BYTES }, () => r.read(8));
  const seqBytes = r.read(3);
  const sequence = r.read(8 * seqBytes);
  if (seqBytes > 0 && sequence < 2 ** (8 * (seqBytes - 1))) meshFail('MALFORMED', 'sequence not minimally encoded');
  if (!Number.isSafeInteger(sequence)) meshFail('MALFORMED', 'sequence exceeds 2^53 - 1');
  const plz = String(r.read(17)).padStart(5, '0');
  if (!isValidPlz(plz)) meshFail('MALFORMED', 'invalid PLZ');
  const barrierFree = r.read(1) === 1;
  const fachrichtungen = readSet<Fachrichtung>(r, 4);
  const altersgruppen = readSet<Altersgruppe>(r, 2);
  const modalitaeten = readSet<Modalitaet>(r, 3);
  const kostentraeger = readSet<Kostentraeger>(r, 4);
  const langCount = r.read(5);
  if (langCount > MAX_LANGUAGES) meshFail('TOO_LARGE', `more than ${MAX_LANGUAGES} languages`);
  const languages: string[] = [];
  for (let i = 0; i < langCount; i++) {
    const len = r.read(1) === 1 ? 3 : 2;
    const letters = [r.read(5), r.read(5), r.read(5)];
    if (len === 2 && letters[2] !== 0) meshFail('MALFORMED', 'two-letter language with a third letter');
    if (letters.slice(0, len).some((c) => c > 25)) meshFail('MALFORMED', 'language letter outside a..z');
    const lang = String.fromCharCode(...letters.slice(0, len).map((c) => c + 97));
    if (!isValidLanguage(lang)) meshFail('MALFORMED', `unknown language ${lang}`);
    languages.push(lang);
  }
  const issuedMin = r.read(32);
  const expiresMin = r.read(16);
  if (expiresMin < 1 || expiresMin > MAX_EXPIRY_MINUTES) meshFail('MALFORMED', 'expiry outside 1 minute..30 days');
  const slotCount = r.read(9);
  if (slotCount > MAX_SLOTS) meshFail('TOO_LARGE', `more than ${MAX_SLOTS} slots`);
  const slots: CompactSlot[] = [];
  for (let i = 0; i < slotCount; i++) {
    const start = r.read(18);
    const d = r.read(2);
    const terminart = r.read(3) as Terminart;
    const group = r.read(3);
    if (start > MAX_START_MINUTES) meshFail('MALFORMED', 'slot start beyond 180 days');
    if (d >= DURATIONS.length) meshFail('MALFORMED', 'unknown slot duration');
    if (terminart < 1 || terminart > Terminart.GRUPPE) meshFail('MALFORMED', 'unknown Terminart');
    if ((terminart === Terminart.GRUPPE) !== group > 0) meshFail('MALFORMED', 'group size only (and always) for Gruppe');
    slots.push({
      startMs: COMPACT_EPOCH_MS + (issuedMin + start) * MINUTE_MS,
      durationMinutes: DURATIONS[d]!,
      terminart,
      groupSize: group === 0 ? 0 : group + 2,
    });
  }
  r.finish();
  return {
    keyRef,
    sequence,
    plz,
    barrierFree,
    fachrichtungen,
    altersgruppen,
    modalitaeten,
    kostentraeger,
    languages,
    issuedAtMs: COMPACT_EPOCH_MS + issuedMin * MINUTE_MS,
    expiresAtMs: COMPACT_EPOCH_MS + (issuedMin + expiresMin) * MINUTE_MS,
    slots,
    body,
    signature,
  };
}

/**
 * Decodes and verifies against the therapist key the receiver already holds (from a full
 * announce it verified with libs/fapp): the key must match the key reference and the
 * signature must verify. Throws INVALID_KEY / BAD_SIGNATURE / MALFORMED.
 */
export function verifyCompactAnnounce(bytes: Uint8Array, therapistKey: Uint8Array): CompactAnnounce {
  const c = decodeCompactAnnounce(bytes);
  if (therapistKey.length !== 32 || !constantTimeEqual(therapistKeyRef(therapistKey), c.keyRef)) meshFail('INVALID_KEY', 'key does not match the compact announce’s key reference');
  let ok: boolean;
  try {
    ok = verify(therapistKey, meshSigningInput('lora-announce', c.body), c.signature);
  } catch {
    ok = false;
  }
  if (!ok) meshFail('BAD_SIGNATURE', 'compact announce signature does not verify');
  return c;
}

/** True when the compact form says exactly what the (validated) full announce says. */
export function compactMatchesAnnounce(c: CompactAnnounce, full: Announce): boolean {
  try {
    return constantTimeEqual(compactAnnounceBody(full), c.body);
  } catch {
    return false;
  }
}
