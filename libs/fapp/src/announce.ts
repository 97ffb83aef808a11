import { create, toBinary } from '@bufbuild/protobuf';
import { constantTimeEqual, randomBytes, toHex, type SigningKeyPair } from '@qpc/crypto';
import {
  FappKind,
  FappSignedSchema,
  SlotAnnounceSchema,
  Terminart,
  type Altersgruppe,
  type Fachrichtung,
  type FappSigned,
  type Kostentraeger,
  type Modalitaet,
  type Slot,
} from '@qpc/proto';
import { checkAttestation, type AttestationCache, type AttestationStatus, type TrustStore } from './attestation.js';
import { bytesOfLength, decodeMessage, enumSet, enumValue, KNOWN, MAX_SAFE_U64, text, u64 } from './codec.js';
import { encodeEnvelope, type SignatureVerifier, signEnvelope, verifyEnvelope } from './envelope.js';
import { fail } from './errors.js';
import { assertLanguage } from './language.js';
import {
  DEFAULT_ANNOUNCE_TTL_MS,
  ED25519_PUBLIC_KEY_BYTES,
  ID_BYTES,
  MAX_ANNOUNCE_TTL_MS,
  MESH_ADDRESS_BYTES,
  MAX_CLOCK_SKEW_MS,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_GROUP_SIZE,
  MAX_LANGUAGES,
  MAX_MESSAGE_BYTES,
  MAX_PROFILE_URL_LENGTH,
  MAX_SLOT_HORIZON_MS,
  MAX_SLOTS,
  MIN_GROUP_SIZE,
  MINUTE_MS,
  SLOT_DURATIONS_MINUTES,
  XWING_PUBLIC_KEY_BYTES,
} from './limits.js';
import { assertPlz } from './plz.js';

export type SlotDuration = 25 | 50 | 100;

export interface AnnounceSlot {
  id: Uint8Array;
  /** Hex of `id`; unique within the announce. */
  idHex: string;
  startMs: number;
  durationMinutes: SlotDuration;
  terminart: Terminart;
  /** Maximum participants for TERMINART_GRUPPE, 0 otherwise. */
  groupSize: number;
}

/** A validated SlotAnnounce with numbers instead of bigints and sorted enum sets. */
export interface Announce {
  therapistKey: Uint8Array;
  /** Hex of therapistKey: the store key. */
  therapistId: string;
  kemKey: Uint8Array;
  attestation: FappSigned | undefined;
  fachrichtungen: Fachrichtung[];
  altersgruppen: Altersgruppe[];
  modalitaeten: Modalitaet[];
  kostentraeger: Kostentraeger[];
  plz: string;
  languages: string[];
  barrierFree: boolean;
  profileUrl: string | undefined;
  displayName: string | undefined;
  /** The therapist's own mesh node (16 bytes), if reservations should reach it over the mesh. */
  meshAddress?: Uint8Array | undefined;
  /** Earliest first. */
  slots: AnnounceSlot[];
  sequence: number;
  issuedAtMs: number;
  expiresAtMs: number;
}

export interface VerifiedAnnounce {
  announce: Announce;
  status: AttestationStatus;
  verified: boolean;
  /** The envelope bytes as received (forward these, or store them). */
  bytes: Uint8Array;
  /** The signed body bytes. */
  body: Uint8Array;
  hopCount: number;
}

export interface AnnouncePolicy {
  nowMs: number;
  trust: TrustStore;
  /** Drop announces without a valid attestation (UNVERIFIED_REJECTED). */
  requireVerified?: boolean;
  /** Skips re-verifying the signature of an attestation seen before (see AttestationCache). */
  attestationCache?: AttestationCache;
  /** Checks both signatures (announce, attestation); `verify` of @qpc/crypto by default. */
  verifySignature?: SignatureVerifier;
}

function checkUrl(url: string): string | undefined {
  if (url === '') return undefined;
  if (url.length > MAX_PROFILE_URL_LENGTH) fail('INVALID_URL', `profile_url exceeds ${MAX_PROFILE_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('INVALID_URL', 'profile_url is not a URL');
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') {
    fail('INVALID_URL', 'profile_url must be an https URL without credentials');
  }
  return url;
}

/**
 * Checks the slots as decoded, in the spec's order, and returns them earliest first; slots already
 * in order (as announces are built) are not sorted again.
 */
function checkSlots(raw: readonly Slot[], issuedAtMs: number): AnnounceSlot[] {
  // A start beyond 2^53 - 1 is malformed before any other slot check (spec §3, announce step 6).
  for (let i = 0; i < raw.length; i++) if (raw[i]!.startMs > MAX_SAFE_U64) u64(raw[i]!.startMs, `slots[${i}].start_ms`);
  if (raw.length > MAX_SLOTS) fail('TOO_MANY_SLOTS', `${raw.length} slots exceed ${MAX_SLOTS}`);
  const ids = new Set<string>();
  const slots: AnnounceSlot[] = new Array(raw.length);
  let ordered = true;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i]!;
    bytesOfLength(s.id, ID_BYTES, `slots[${i}].id`);
    const startMs = Number(s.startMs);
    const idHex = toHex(s.id);
    if (ids.has(idHex)) fail('DUPLICATE_SLOT', `slot id ${idHex} appears twice`);
    ids.add(idHex);
    const terminart = enumValue(s.terminart, KNOWN.terminart, `slots[${i}].terminart`);
    if (!SLOT_DURATIONS_MINUTES.includes(s.durationMinutes)) fail('INVALID_DURATION', `slots[${i}]: duration must be 25, 50 or 100 minutes`);
    if (terminart === Terminart.GRUPPE) {
      if (s.groupSize < MIN_GROUP_SIZE || s.groupSize > MAX_GROUP_SIZE) fail('INVALID_GROUP_SIZE', `slots[${i}]: group size must be ${MIN_GROUP_SIZE}..${MAX_GROUP_SIZE}`);
    } else if (s.groupSize !== 0) {
      fail('INVALID_GROUP_SIZE', `slots[${i}]: group size only for Gruppe`);
    }
    if (startMs % MINUTE_MS !== 0) fail('INVALID_SLOT_TIME', `slots[${i}]: start must be a whole minute`);
    if (startMs < issuedAtMs) fail('SLOT_IN_PAST', `slots[${i}] starts before issued_at`);
    if (startMs > issuedAtMs + MAX_SLOT_HORIZON_MS) fail('SLOT_TOO_FAR', `slots[${i}] starts more than 180 days after issued_at`);
    const slot: AnnounceSlot = { id: s.id, idHex, startMs, durationMinutes: s.durationMinutes as SlotDuration, terminart, groupSize: s.groupSize };
    if (i > 0 && earlierSlot(slot, slots[i - 1]!)) ordered = false;
    slots[i] = slot;
  }
  if (!ordered) slots.sort((a, b) => (earlierSlot(a, b) ? -1 : 1));
  for (let i = 1; i < slots.length; i++) {
    const prev = slots[i - 1]!;
    const cur = slots[i]!;
    if (prev.startMs + prev.durationMinutes * MINUTE_MS > cur.startMs) fail('SLOT_OVERLAP', `slot ${cur.idHex} overlaps slot ${prev.idHex}`);
  }
  return slots;
}

/** Announce order: earliest first, then by id (ids are unique within an announce). */
function earlierSlot(a: AnnounceSlot, b: AnnounceSlot): boolean {
  return a.startMs < b.startMs || (a.startMs === b.startMs && a.idHex < b.idHex);
}

/** Languages sorted, each once; a list already in order (as announces are built) is not sorted again. */
function checkLanguages(codes: readonly string[]): string[] {
  if (codes.length === 0) fail('MISSING_FIELD', 'languages must name at least one language');
  if (codes.length > MAX_LANGUAGES) fail('TOO_LARGE', `more than ${MAX_LANGUAGES} languages`);
  let ascending = true;
  for (let i = 0; i < codes.length; i++) {
    assertLanguage(codes[i]!);
    if (i > 0 && codes[i]! <= codes[i - 1]!) ascending = false;
  }
  if (ascending) return codes.slice();
  const sorted = codes.slice().sort();
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) fail('MALFORMED', 'languages: duplicate code');
  return sorted;
}

/**
 * Validates a decoded SlotAnnounce body (everything but signature and attestation trust),
 * in the spec's order. `nowMs` is used for ISSUED_IN_FUTURE and EXPIRED.
 */
export function validateAnnounceBody(body: Uint8Array, signerKey: Uint8Array, nowMs: number): Announce {
  const m = decodeMessage(SlotAnnounceSchema, body);
  bytesOfLength(m.therapistKey, ED25519_PUBLIC_KEY_BYTES, 'therapist_key', 'INVALID_KEY');
  if (!constantTimeEqual(m.therapistKey, signerKey)) fail('SIGNER_MISMATCH', 'therapist_key differs from the envelope signer');
  bytesOfLength(m.kemKey, XWING_PUBLIC_KEY_BYTES, 'kem_key', 'INVALID_KEY');
  const fachrichtungen = enumSet(m.fachrichtungen, KNOWN.fachrichtung, 'fachrichtungen', true);
  const altersgruppen = enumSet(m.altersgruppen, KNOWN.altersgruppe, 'altersgruppen', true);
  const modalitaeten = enumSet(m.modalitaeten, KNOWN.modalitaet, 'modalitaeten', true);
  const kostentraeger = enumSet(m.kostentraeger, KNOWN.kostentraeger, 'kostentraeger', true);
  const plz = assertPlz(m.plz);
  const languages = checkLanguages(m.languages);
  const profileUrl = checkUrl(m.profileUrl);
  const displayName = m.displayName === '' ? undefined : text(m.displayName, MAX_DISPLAY_NAME_LENGTH, 'display_name');
  const meshAddress = m.meshAddress.length === 0 ? undefined : bytesOfLength(m.meshAddress, MESH_ADDRESS_BYTES, 'mesh_address');
  const sequence = u64(m.sequence, 'sequence');
  const issuedAtMs = u64(m.issuedAtMs, 'issued_at_ms');
  const expiresAtMs = u64(m.expiresAtMs, 'expires_at_ms');
  if (issuedAtMs > nowMs + MAX_CLOCK_SKEW_MS) fail('ISSUED_IN_FUTURE', `issued_at is more than ${MAX_CLOCK_SKEW_MS / 1000} s ahead`);
  if (expiresAtMs <= issuedAtMs) fail('MALFORMED', 'expires_at must be after issued_at');
  if (expiresAtMs - issuedAtMs > MAX_ANNOUNCE_TTL_MS) fail('EXPIRY_TOO_LONG', 'expires_at is more than 30 days after issued_at');
  if (expiresAtMs <= nowMs) fail('EXPIRED', 'announce has expired');
  const slots = checkSlots(m.slots, issuedAtMs);
  return {
    therapistKey: m.therapistKey,
    therapistId: toHex(m.therapistKey),
    kemKey: m.kemKey,
    attestation: m.attestation,
    fachrichtungen,
    altersgruppen,
    modalitaeten,
    kostentraeger,
    plz,
    languages,
    barrierFree: m.barrierFree,
    profileUrl,
    displayName,
    meshAddress,
    slots,
    sequence,
    issuedAtMs,
    expiresAtMs,
  };
}

/**
 * `bytes`, or a copy of them in a buffer of their own when they are a view into a larger one (one
 * announce of a batch body, a pooled Buffer). Everything decoded from them is a view into them too.
 */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array && bytes.byteLength <= MAX_MESSAGE_BYTES && bytes.byteLength !== bytes.buffer.byteLength ? bytes.slice() : bytes;
}

/**
 * Full check of received announce bytes: envelope and signature over the body as
 * received, body rules, then the attestation against the trust store. Throws FappError.
 *
 * The result's byte fields (keys, slot ids, the attestation, `bytes`, `body`) are views into one
 * buffer that holds this announce alone: bytes that were part of a larger buffer are copied first,
 * so keeping an announce (a cache, a search index) never keeps the batch it arrived in.
 */
export function verifyAnnounce(received: Uint8Array, policy: AnnouncePolicy): VerifiedAnnounce {
  const bytes = ownBytes(received);
  const env = verifyEnvelope(decodeMessage(FappSignedSchema, bytes), FappKind.SLOT_ANNOUNCE, policy.verifySignature);
  const announce = validateAnnounceBody(env.body, env.signerKey, policy.nowMs);
  let status: AttestationStatus = { kind: 'unverified' };
  if (announce.attestation) {
    status = checkAttestation(announce.attestation, announce.therapistKey, policy.trust, policy.nowMs, policy.attestationCache, policy.verifySignature);
    const covered = status.attestation.fachrichtungen;
    for (const f of announce.fachrichtungen) if (!covered.includes(f)) fail('ATTESTATION_SCOPE', `attestation does not cover Fachrichtung ${f}`);
  } else if (policy.requireVerified) {
    fail('UNVERIFIED_REJECTED', 'this node accepts only attested announces');
  }
  return { announce, status, verified: status.kind === 'verified', bytes, body: env.body, hopCount: env.hopCount };
}

export interface SlotInput {
  /** Defaults to 16 random bytes. Keep ids stable across re-announces. */
  id?: Uint8Array;
  startMs: number;
  durationMinutes: number;
  terminart: Terminart;
  groupSize?: number;
}

export interface AnnounceInput {
  kemPublicKey: Uint8Array;
  /** FappSigned bytes of the licence attestation, if the therapist has one. */
  attestation?: Uint8Array;
  fachrichtungen: Fachrichtung[];
  altersgruppen: Altersgruppe[];
  modalitaeten: Modalitaet[];
  kostentraeger: Kostentraeger[];
  plz: string;
  languages: string[];
  barrierFree?: boolean;
  profileUrl?: string;
  displayName?: string;
  /** Mesh address (16 bytes) of the therapist's own mesh node: reservations are passed on to it. */
  meshAddress?: Uint8Array;
  slots: SlotInput[];
  sequence: number;
  /** Defaults to nowMs + 7 days. */
  expiresAtMs?: number;
}

/**
 * Therapist side: builds, signs and self-checks an announce. Returns the FappSigned bytes.
 * Throws the same FappError a receiver would (except attestation trust, which the
 * receiver's trust store decides).
 */
export function buildAnnounce(therapist: SigningKeyPair, input: AnnounceInput, nowMs: number): Uint8Array {
  if (!Number.isSafeInteger(input.sequence) || input.sequence < 0) fail('MALFORMED', 'sequence must be a non-negative integer');
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) fail('MALFORMED', 'nowMs must be a non-negative integer');
  const expiresAtMs = input.expiresAtMs ?? nowMs + DEFAULT_ANNOUNCE_TTL_MS;
  if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < 0) fail('MALFORMED', 'expiresAtMs must be a non-negative integer');
  for (const s of input.slots) {
    if (!Number.isSafeInteger(s.startMs) || s.startMs < 0) fail('INVALID_SLOT_TIME', 'slot start must be a non-negative integer');
  }
  const attestation = input.attestation === undefined ? undefined : decodeMessage(FappSignedSchema, input.attestation);
  const body = toBinary(
    SlotAnnounceSchema,
    create(SlotAnnounceSchema, {
      therapistKey: therapist.publicKey,
      kemKey: input.kemPublicKey,
      attestation,
      fachrichtungen: input.fachrichtungen,
      altersgruppen: input.altersgruppen,
      modalitaeten: input.modalitaeten,
      kostentraeger: input.kostentraeger,
      plz: input.plz,
      languages: input.languages,
      barrierFree: input.barrierFree ?? false,
      profileUrl: input.profileUrl ?? '',
      displayName: input.displayName ?? '',
      meshAddress: input.meshAddress ?? new Uint8Array(0),
      slots: input.slots.map((s) => ({
        id: s.id ?? randomBytes(ID_BYTES),
        startMs: BigInt(s.startMs),
        durationMinutes: s.durationMinutes,
        terminart: s.terminart,
        groupSize: s.groupSize ?? 0,
      })),
      sequence: BigInt(input.sequence),
      issuedAtMs: BigInt(nowMs),
      expiresAtMs: BigInt(expiresAtMs),
    }),
  );
  validateAnnounceBody(body, therapist.publicKey, nowMs);
  return encodeEnvelope(signEnvelope(FappKind.SLOT_ANNOUNCE, body, therapist));
}
