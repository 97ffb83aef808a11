import { fromBase64Url, toBase64Url } from '@qpc/crypto';

/**
 * The private answer link `/[lang]/antwort#<fragment>`. The fragment never reaches any server
 * (browsers do not send it, and the pages send no Referer), so it can carry the secrets the
 * patient needs to read the therapist's reply. Two forms, told apart by length:
 *
 * - full (119 bytes, base64url, 159 characters):
 *   `0x01 | capability(32) | reply secret seed(32) | therapist key(32) | slot id(16) |
 *    slot start in minutes since the epoch (u32 BE) | duration minutes (u8) | Terminart (u8)`
 * - capability only (32 bytes, 43 characters): the rest is kept in this browser's storage
 *   because the patient chose "remember on this device".
 */
export const FRAGMENT_VERSION = 0x01;
export const CAPABILITY_BYTES = 32;
const SEED_BYTES = 32;
const THERAPIST_KEY_BYTES = 32;
const SLOT_ID_BYTES = 16;
export const FULL_FRAGMENT_BYTES = 1 + CAPABILITY_BYTES + SEED_BYTES + THERAPIST_KEY_BYTES + SLOT_ID_BYTES + 4 + 1 + 1;
const MINUTE_MS = 60_000;

/** Everything the answer page needs to read, verify, open and cancel a reservation. */
export interface ReservationSecrets {
  /** Names the mailbox; whoever holds it can read the status and cancel the hold. */
  capability: Uint8Array;
  /** X-Wing secret key (seed) the therapist's reply is sealed to. */
  replySecretKey: Uint8Array;
  therapistKey: Uint8Array;
  slotId: Uint8Array;
  slotStartMs: number;
  durationMinutes: number;
  terminart: number;
}

export type DecodedFragment = { kind: 'full'; secrets: ReservationSecrets } | { kind: 'capability'; capability: Uint8Array };

export type FragmentErrorCode = 'empty' | 'malformed' | 'unsupported_version';

export class FragmentError extends Error {
  constructor(
    readonly code: FragmentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FragmentError';
  }
}

function expectLength(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new FragmentError('malformed', `${what} must be ${n} bytes`);
}

export function encodeFullFragment(s: ReservationSecrets): string {
  expectLength(s.capability, CAPABILITY_BYTES, 'capability');
  expectLength(s.replySecretKey, SEED_BYTES, 'reply secret key');
  expectLength(s.therapistKey, THERAPIST_KEY_BYTES, 'therapist key');
  expectLength(s.slotId, SLOT_ID_BYTES, 'slot id');
  const minutes = s.slotStartMs / MINUTE_MS;
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > 0xffffffff) throw new FragmentError('malformed', 'slot start must be a whole minute');
  if (!Number.isInteger(s.durationMinutes) || s.durationMinutes < 1 || s.durationMinutes > 255) throw new FragmentError('malformed', 'duration out of range');
  if (!Number.isInteger(s.terminart) || s.terminart < 0 || s.terminart > 255) throw new FragmentError('malformed', 'terminart out of range');
  const out = new Uint8Array(FULL_FRAGMENT_BYTES);
  let o = 0;
  out[o++] = FRAGMENT_VERSION;
  for (const part of [s.capability, s.replySecretKey, s.therapistKey, s.slotId]) {
    out.set(part, o);
    o += part.length;
  }
  new DataView(out.buffer).setUint32(o, minutes);
  o += 4;
  out[o++] = s.durationMinutes;
  out[o] = s.terminart;
  return toBase64Url(out);
}

export function encodeCapabilityFragment(capability: Uint8Array): string {
  expectLength(capability, CAPABILITY_BYTES, 'capability');
  return toBase64Url(capability);
}

/** Accepts `location.hash` with or without the leading `#`. Throws FragmentError. */
export function decodeFragment(hash: string): DecodedFragment {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (text.trim() === '') throw new FragmentError('empty', 'the link has no fragment');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(text);
  } catch {
    throw new FragmentError('malformed', 'the link is not valid base64url');
  }
  if (bytes.length === CAPABILITY_BYTES) return { kind: 'capability', capability: bytes };
  if (bytes.length !== FULL_FRAGMENT_BYTES) throw new FragmentError('malformed', `the link decodes to ${bytes.length} bytes`);
  if (bytes[0] !== FRAGMENT_VERSION) throw new FragmentError('unsupported_version', `unknown link version ${bytes[0]}`);
  let o = 1;
  const take = (n: number) => bytes.slice(o, (o += n));
  const capability = take(CAPABILITY_BYTES);
  const replySecretKey = take(SEED_BYTES);
  const therapistKey = take(THERAPIST_KEY_BYTES);
  const slotId = take(SLOT_ID_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slotStartMs = view.getUint32(o) * MINUTE_MS;
  o += 4;
  const durationMinutes = bytes[o++]!;
  const terminart = bytes[o]!;
  if (durationMinutes === 0) throw new FragmentError('malformed', 'duration is zero');
  return { kind: 'full', secrets: { capability, replySecretKey, therapistKey, slotId, slotStartMs, durationMinutes, terminart } };
}

/** The capability of either form, base64url (the mailbox header value). */
export function capabilityOf(d: DecodedFragment): Uint8Array {
  return d.kind === 'full' ? d.secrets.capability : d.capability;
}
