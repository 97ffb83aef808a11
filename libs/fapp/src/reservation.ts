import { create, toBinary } from '@bufbuild/protobuf';
import {
  concatBytes,
  constantTimeEqual,
  generateKemKeyPair,
  isCryptoError,
  mintStamp,
  open,
  randomBytes,
  seal,
  SEAL_OVERHEAD,
  sha256,
  toHex,
  utf8,
  verifyStamp,
  type KemKeyPair,
  type SigningKeyPair,
} from '@qpc/crypto';
import {
  FappKind,
  ReplyPlaintextSchema,
  ReservationPlaintextSchema,
  SlotConfirmSchema,
  SlotDecision,
  SlotReleaseSchema,
  SlotReserveSchema,
} from '@qpc/proto';
import type { Announce, AnnounceSlot } from './announce.js';
import { bytesOfLength, decodeMessage, enumValue, KNOWN, text, u64 } from './codec.js';
import { encodeEnvelope, openEnvelope, signEnvelope } from './envelope.js';
import { fail, FappError } from './errors.js';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ID_BYTES,
  MAILBOX_CAPABILITY_BYTES,
  MAILBOX_ID_BYTES,
  MAX_CLOCK_SKEW_MS,
  MAX_CONTACT_BYTES,
  MAX_REPLY_MESSAGE_BYTES,
  MAX_RESERVATION_MESSAGE_BYTES,
  MAX_STAMP_BYTES,
  REPLY_PAD_BYTES,
  RESERVATION_PAD_BYTES,
  STAMP_WINDOW_MS,
  XWING_PUBLIC_KEY_BYTES,
} from './limits.js';

/** Exact size of SlotReserve.sealed: every reservation looks the same on the wire. */
export const SEALED_RESERVATION_BYTES = SEAL_OVERHEAD + RESERVATION_PAD_BYTES;
/** Exact size of SlotConfirm.sealed_reply. */
export const SEALED_REPLY_BYTES = SEAL_OVERHEAD + REPLY_PAD_BYTES;
/** Oldest accepted stamp: issued in the current or the previous window. */
export const STAMP_WINDOWS_ACCEPTED = 2;
/** Signed confirms and releases are accepted this long after issued_at. */
export const MAX_COMMAND_AGE_MS = 24 * 60 * 60 * 1000;

const RESERVE_INFO = utf8('qpc-fapp-v1/reserve');
const REPLY_INFO = utf8('qpc-fapp-v1/reply');

export type Decision = 'confirmed' | 'declined';

function decisionToWire(d: Decision): SlotDecision {
  return d === 'confirmed' ? SlotDecision.CONFIRMED : SlotDecision.DECLINED;
}
function decisionFromWire(d: SlotDecision): Decision {
  return enumValue(d, KNOWN.slotDecision, 'decision') === SlotDecision.CONFIRMED ? 'confirmed' : 'declined';
}

function u64be(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** SHA-256("qpc-fapp-v1/mailbox" || 0x00 || capability). The server only ever sees this. */
export function mailboxIdFromCapability(capability: Uint8Array): Uint8Array {
  if (capability.length < 16) fail('MALFORMED', 'mailbox capability must be at least 128 bits');
  return sha256(concatBytes(utf8('qpc-fapp-v1/mailbox\u0000'), capability));
}

export function stampWindow(nowMs: number): number {
  return Math.floor(nowMs / STAMP_WINDOW_MS);
}

/**
 * The bytes the proof-of-work stamp is bound to: the slot, the mailbox, the time window
 * and the sealed payload, so a stamp cannot be moved to another slot, reservation or time.
 */
export function stampContext(therapistKey: Uint8Array, slotId: Uint8Array, mailboxId: Uint8Array, window: number, sealed: Uint8Array): Uint8Array {
  return concatBytes(utf8('qpc-fapp-v1/stamp\u0000'), therapistKey, slotId, mailboxId, u64be(window), sha256(sealed));
}

// The AAD binds the ciphertext to its public routing fields, so a relay cannot move a
// sealed request to another slot or mailbox.
function reserveAad(therapistKey: Uint8Array, slotId: Uint8Array, mailboxId: Uint8Array): Uint8Array {
  return concatBytes(therapistKey, slotId, mailboxId);
}
function replyAad(therapistKey: Uint8Array, slotId: Uint8Array, mailboxId: Uint8Array, decision: SlotDecision): Uint8Array {
  return concatBytes(therapistKey, slotId, mailboxId, Uint8Array.of(decision));
}

function findSlot(announce: Announce, slotId: Uint8Array): AnnounceSlot {
  const hex = toHex(slotId);
  const slot = announce.slots.find((s) => s.idHex === hex);
  if (!slot) fail('UNKNOWN_SLOT', 'slot is not in the announce');
  return slot;
}

export interface CreateReservationInput {
  announce: Announce;
  slotId: Uint8Array;
  /** Contact the patient chooses to give (e-mail, phone, pseudonym); may be empty. */
  contact?: string;
  message?: string;
  difficultyBits: number;
  nowMs: number;
  signal?: AbortSignal;
  onProgress?: (tries: number) => void;
}

/** What the patient's device keeps (secrets stay on the device). */
export interface PatientReservation {
  /** SlotReserve bytes to send. */
  bytes: Uint8Array;
  therapistKey: Uint8Array;
  slotId: Uint8Array;
  /** Secret: whoever holds it reads the mailbox and can cancel the hold. */
  mailboxCapability: Uint8Array;
  mailboxId: Uint8Array;
  /** Secret: the ephemeral X-Wing key pair the reply is sealed to. */
  replyKeyPair: KemKeyPair;
}

/**
 * Patient side: ephemeral reply key pair, sealed and padded request, random mailbox
 * capability, proof-of-work stamp. Nothing in the result identifies the patient.
 */
export async function createReservation(input: CreateReservationInput): Promise<PatientReservation> {
  const { announce, slotId, nowMs } = input;
  const slot = findSlot(announce, slotId);
  if (slot.startMs <= nowMs) fail('SLOT_IN_PAST', 'slot has already begun');
  const contact = text(input.contact ?? '', MAX_CONTACT_BYTES, 'contact');
  const message = text(input.message ?? '', MAX_RESERVATION_MESSAGE_BYTES, 'message', { multiline: true });
  const replyKeyPair = generateKemKeyPair();
  const mailboxCapability = randomBytes(MAILBOX_CAPABILITY_BYTES);
  const mailboxId = mailboxIdFromCapability(mailboxCapability);
  const plaintext = toBinary(
    ReservationPlaintextSchema,
    create(ReservationPlaintextSchema, { slotId, contact, message, replyKey: replyKeyPair.publicKey }),
  );
  const sealed = await seal(announce.kemKey, plaintext, {
    info: RESERVE_INFO,
    aad: reserveAad(announce.therapistKey, slotId, mailboxId),
    padTo: RESERVATION_PAD_BYTES,
  });
  plaintext.fill(0);
  const window = stampWindow(nowMs);
  const stampOpts: { signal?: AbortSignal; onProgress?: (tries: number) => void } = {};
  if (input.signal) stampOpts.signal = input.signal;
  if (input.onProgress) stampOpts.onProgress = input.onProgress;
  const stamp = await mintStamp(stampContext(announce.therapistKey, slotId, mailboxId, window, sealed), input.difficultyBits, stampOpts);
  const bytes = toBinary(
    SlotReserveSchema,
    create(SlotReserveSchema, { therapistKey: announce.therapistKey, slotId, sealed, mailboxId, stampWindow: BigInt(window), stamp }),
  );
  return { bytes, therapistKey: announce.therapistKey, slotId, mailboxCapability, mailboxId, replyKeyPair };
}

/** A SlotReserve that passed the node's checks (the content stays sealed). */
export interface VerifiedReservation {
  therapistId: string;
  therapistKey: Uint8Array;
  slotId: Uint8Array;
  slotIdHex: string;
  mailboxId: Uint8Array;
  mailboxIdHex: string;
  /** Hex SHA-256 of the stamp and its context: remember it to refuse reuse (STAMP_REUSED). */
  stampId: string;
  stampWindow: number;
  slot: AnnounceSlot;
  /** The SlotReserve bytes, to hand to the therapist unchanged. */
  bytes: Uint8Array;
}

export interface ReservationPolicy {
  nowMs: number;
  difficultyBits: number;
  /** The current announce of a therapist (by hex key), from the store. */
  lookup: (therapistId: string) => Announce | undefined;
}

/**
 * Node side, before holding a slot. Order: TOO_LARGE/MALFORMED, INVALID_KEY, MALFORMED
 * (ids, sealed size), UNKNOWN_SLOT, SLOT_IN_PAST, STALE_STAMP, BAD_STAMP.
 */
export function verifyReservation(bytes: Uint8Array, policy: ReservationPolicy): VerifiedReservation {
  const m = decodeMessage(SlotReserveSchema, bytes);
  bytesOfLength(m.therapistKey, ED25519_PUBLIC_KEY_BYTES, 'therapist_key', 'INVALID_KEY');
  bytesOfLength(m.slotId, ID_BYTES, 'slot_id');
  bytesOfLength(m.mailboxId, MAILBOX_ID_BYTES, 'mailbox_id');
  bytesOfLength(m.sealed, SEALED_RESERVATION_BYTES, 'sealed');
  if (m.stamp.length > MAX_STAMP_BYTES) fail('BAD_STAMP', 'stamp too long');
  const therapistId = toHex(m.therapistKey);
  const announce = policy.lookup(therapistId);
  if (!announce || announce.expiresAtMs <= policy.nowMs) fail('UNKNOWN_SLOT', 'no current announce for this therapist');
  const slot = findSlot(announce, m.slotId);
  if (slot.startMs <= policy.nowMs) fail('SLOT_IN_PAST', 'slot has already begun');
  const window = u64(m.stampWindow, 'stamp_window');
  const newest = stampWindow(policy.nowMs + MAX_CLOCK_SKEW_MS);
  const oldest = stampWindow(policy.nowMs) - (STAMP_WINDOWS_ACCEPTED - 1);
  if (window < oldest || window > newest) fail('STALE_STAMP', 'stamp window is not current');
  const context = stampContext(m.therapistKey, m.slotId, m.mailboxId, window, m.sealed);
  if (!verifyStamp(m.stamp, context, policy.difficultyBits)) fail('BAD_STAMP', 'proof of work does not verify');
  return {
    therapistId,
    therapistKey: m.therapistKey,
    slotId: m.slotId,
    slotIdHex: toHex(m.slotId),
    mailboxId: m.mailboxId,
    mailboxIdHex: toHex(m.mailboxId),
    stampId: toHex(sha256(concatBytes(context, m.stamp))),
    stampWindow: window,
    slot,
    bytes,
  };
}

/** Stamps seen recently, by stamp id -> window. Immutable. */
export type SeenStamps = ReadonlyMap<string, number>;

/** Records a stamp; `reused` if it was seen before. Forgets stamps from windows no longer accepted. */
export function rememberStamp(seen: SeenStamps, r: Pick<VerifiedReservation, 'stampId' | 'stampWindow'>, nowMs: number): { kind: 'fresh'; seen: SeenStamps } | { kind: 'reused'; seen: SeenStamps; error: FappError } {
  if (seen.has(r.stampId)) return { kind: 'reused', seen, error: new FappError('STAMP_REUSED', 'stamp was already used') };
  const oldest = stampWindow(nowMs) - (STAMP_WINDOWS_ACCEPTED - 1);
  const next = new Map<string, number>();
  for (const [k, w] of seen) if (w >= oldest) next.set(k, w);
  next.set(r.stampId, r.stampWindow);
  return { kind: 'fresh', seen: next };
}

/** What the therapist reads from a reservation. */
export interface OpenedReservation {
  therapistKey: Uint8Array;
  slotId: Uint8Array;
  mailboxId: Uint8Array;
  contact: string;
  message: string;
  replyKey: Uint8Array;
}

async function openSealed(secretKey: Uint8Array, sealed: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  try {
    return await open(secretKey, sealed, { info, aad });
  } catch (e) {
    if (isCryptoError(e)) throw new FappError('DECRYPT_FAILED', 'cannot open sealed content', { cause: e });
    throw e;
  }
}

/** Therapist side: opens SlotReserve bytes with the announce's KEM secret key. */
export async function openReservation(bytes: Uint8Array, therapistKemSecretKey: Uint8Array): Promise<OpenedReservation> {
  const m = decodeMessage(SlotReserveSchema, bytes);
  bytesOfLength(m.therapistKey, ED25519_PUBLIC_KEY_BYTES, 'therapist_key', 'INVALID_KEY');
  bytesOfLength(m.slotId, ID_BYTES, 'slot_id');
  bytesOfLength(m.mailboxId, MAILBOX_ID_BYTES, 'mailbox_id');
  const pt = await openSealed(therapistKemSecretKey, m.sealed, RESERVE_INFO, reserveAad(m.therapistKey, m.slotId, m.mailboxId));
  try {
    // Decoded bytes fields are views into `pt`: copy what we keep, then wipe the plaintext.
    const inner = decodeMessage(ReservationPlaintextSchema, pt);
    if (!constantTimeEqual(inner.slotId, m.slotId)) fail('RESERVATION_MISMATCH', 'sealed slot id differs from the request');
    bytesOfLength(inner.replyKey, XWING_PUBLIC_KEY_BYTES, 'reply_key', 'INVALID_KEY');
    return {
      therapistKey: m.therapistKey,
      slotId: m.slotId,
      mailboxId: m.mailboxId,
      contact: text(inner.contact, MAX_CONTACT_BYTES, 'contact'),
      message: text(inner.message, MAX_RESERVATION_MESSAGE_BYTES, 'message', { multiline: true }),
      replyKey: inner.replyKey.slice(),
    };
  } finally {
    pt.fill(0);
  }
}

/**
 * Therapist side: the signed SlotConfirm (confirm or decline). The server reads the
 * decision; the message is sealed to the patient's reply key and padded.
 */
export async function buildConfirm(therapist: SigningKeyPair, reservation: OpenedReservation, decision: Decision, message: string, nowMs: number): Promise<Uint8Array> {
  if (!constantTimeEqual(therapist.publicKey, reservation.therapistKey)) fail('SIGNER_MISMATCH', 'reservation is for another therapist');
  text(message, MAX_REPLY_MESSAGE_BYTES, 'message', { multiline: true });
  const wire = decisionToWire(decision);
  const reply = toBinary(ReplyPlaintextSchema, create(ReplyPlaintextSchema, { slotId: reservation.slotId, decision: wire, message }));
  const sealedReply = await seal(reservation.replyKey, reply, {
    info: REPLY_INFO,
    aad: replyAad(reservation.therapistKey, reservation.slotId, reservation.mailboxId, wire),
    padTo: REPLY_PAD_BYTES,
  });
  const body = toBinary(
    SlotConfirmSchema,
    create(SlotConfirmSchema, {
      therapistKey: therapist.publicKey,
      slotId: reservation.slotId,
      mailboxId: reservation.mailboxId,
      decision: wire,
      issuedAtMs: BigInt(nowMs),
      sealedReply,
    }),
  );
  return encodeEnvelope(signEnvelope(FappKind.SLOT_CONFIRM, body, therapist));
}

export interface VerifiedConfirm {
  therapistId: string;
  therapistKey: Uint8Array;
  slotId: Uint8Array;
  slotIdHex: string;
  mailboxId: Uint8Array;
  mailboxIdHex: string;
  decision: Decision;
  issuedAtMs: number;
  /** The FappSigned bytes; store them in the mailbox unchanged. */
  bytes: Uint8Array;
}

function checkCommandTime(issuedAtMs: number, nowMs: number): void {
  if (issuedAtMs > nowMs + MAX_CLOCK_SKEW_MS) fail('ISSUED_IN_FUTURE', 'issued_at is ahead of the clock');
  if (issuedAtMs + MAX_COMMAND_AGE_MS <= nowMs) fail('EXPIRED', 'command is too old');
}

/** Server/patient side: checks a SlotConfirm's signature, fields and age. */
export function verifyConfirm(bytes: Uint8Array, nowMs: number): VerifiedConfirm {
  const env = openEnvelope(bytes, FappKind.SLOT_CONFIRM);
  const m = decodeMessage(SlotConfirmSchema, env.body);
  bytesOfLength(m.therapistKey, ED25519_PUBLIC_KEY_BYTES, 'therapist_key', 'INVALID_KEY');
  if (!constantTimeEqual(m.therapistKey, env.signerKey)) fail('SIGNER_MISMATCH', 'therapist_key differs from the signer');
  bytesOfLength(m.slotId, ID_BYTES, 'slot_id');
  bytesOfLength(m.mailboxId, MAILBOX_ID_BYTES, 'mailbox_id');
  const decision = decisionFromWire(m.decision);
  bytesOfLength(m.sealedReply, SEALED_REPLY_BYTES, 'sealed_reply');
  const issuedAtMs = u64(m.issuedAtMs, 'issued_at_ms');
  checkCommandTime(issuedAtMs, nowMs);
  return {
    therapistId: toHex(m.therapistKey),
    therapistKey: m.therapistKey,
    slotId: m.slotId,
    slotIdHex: toHex(m.slotId),
    mailboxId: m.mailboxId,
    mailboxIdHex: toHex(m.mailboxId),
    decision,
    issuedAtMs,
    bytes,
  };
}

export interface OpenedReply {
  decision: Decision;
  message: string;
  issuedAtMs: number;
}

/**
 * Patient side: verifies a SlotConfirm from the mailbox against the reservation it
 * answers (therapist key, slot, mailbox) and opens the sealed reply.
 */
export async function openConfirm(bytes: Uint8Array, reservation: Pick<PatientReservation, 'therapistKey' | 'slotId' | 'mailboxId' | 'replyKeyPair'>, nowMs: number): Promise<OpenedReply> {
  const v = verifyConfirm(bytes, nowMs);
  if (!constantTimeEqual(v.therapistKey, reservation.therapistKey)) fail('SIGNER_MISMATCH', 'reply is signed by another therapist');
  if (!constantTimeEqual(v.slotId, reservation.slotId) || !constantTimeEqual(v.mailboxId, reservation.mailboxId)) {
    fail('RESERVATION_MISMATCH', 'reply answers another reservation');
  }
  const m = decodeMessage(SlotConfirmSchema, openEnvelope(bytes, FappKind.SLOT_CONFIRM).body);
  const pt = await openSealed(reservation.replyKeyPair.secretKey, m.sealedReply, REPLY_INFO, replyAad(v.therapistKey, v.slotId, v.mailboxId, m.decision));
  const inner = decodeMessage(ReplyPlaintextSchema, pt);
  if (!constantTimeEqual(inner.slotId, v.slotId) || inner.decision !== m.decision) fail('RESERVATION_MISMATCH', 'sealed reply differs from the signed decision');
  return { decision: v.decision, message: text(inner.message, MAX_REPLY_MESSAGE_BYTES, 'message', { multiline: true }), issuedAtMs: v.issuedAtMs };
}

export type VerifiedRelease =
  | { kind: 'therapist'; therapistId: string; slotIdHex: string; mailboxIdHex: string | undefined; issuedAtMs: number }
  | { kind: 'patient'; therapistId: string; slotIdHex: string; mailboxIdHex: string; issuedAtMs: number };

/** Therapist side: a signed SlotRelease that frees a held or booked slot. */
export function buildTherapistRelease(therapist: SigningKeyPair, slotId: Uint8Array, nowMs: number, mailboxId?: Uint8Array): Uint8Array {
  const body = toBinary(
    SlotReleaseSchema,
    create(SlotReleaseSchema, { therapistKey: therapist.publicKey, slotId, mailboxId: mailboxId ?? new Uint8Array(0), issuedAtMs: BigInt(nowMs) }),
  );
  return encodeEnvelope(signEnvelope(FappKind.SLOT_RELEASE, body, therapist));
}

function releaseFields(body: Uint8Array) {
  const m = decodeMessage(SlotReleaseSchema, body);
  bytesOfLength(m.therapistKey, ED25519_PUBLIC_KEY_BYTES, 'therapist_key', 'INVALID_KEY');
  bytesOfLength(m.slotId, ID_BYTES, 'slot_id');
  if (m.mailboxId.length !== 0) bytesOfLength(m.mailboxId, MAILBOX_ID_BYTES, 'mailbox_id');
  return m;
}

export function verifyTherapistRelease(bytes: Uint8Array, nowMs: number): Extract<VerifiedRelease, { kind: 'therapist' }> {
  const env = openEnvelope(bytes, FappKind.SLOT_RELEASE);
  const m = releaseFields(env.body);
  if (!constantTimeEqual(m.therapistKey, env.signerKey)) fail('SIGNER_MISMATCH', 'therapist_key differs from the signer');
  if (m.mailboxCapability.length !== 0) fail('MALFORMED', 'a therapist release carries no capability');
  const issuedAtMs = u64(m.issuedAtMs, 'issued_at_ms');
  checkCommandTime(issuedAtMs, nowMs);
  return {
    kind: 'therapist',
    therapistId: toHex(m.therapistKey),
    slotIdHex: toHex(m.slotId),
    mailboxIdHex: m.mailboxId.length === 0 ? undefined : toHex(m.mailboxId),
    issuedAtMs,
  };
}

/** Patient side: an unsigned SlotRelease that cancels the patient's own hold. */
export function buildPatientCancel(reservation: Pick<PatientReservation, 'therapistKey' | 'slotId' | 'mailboxCapability'>, nowMs: number): Uint8Array {
  return toBinary(
    SlotReleaseSchema,
    create(SlotReleaseSchema, {
      therapistKey: reservation.therapistKey,
      slotId: reservation.slotId,
      mailboxId: mailboxIdFromCapability(reservation.mailboxCapability),
      issuedAtMs: BigInt(nowMs),
      mailboxCapability: reservation.mailboxCapability,
    }),
  );
}

/** Server side: checks that the capability opens the named mailbox (RESERVATION_MISMATCH otherwise). */
export function verifyPatientCancel(bytes: Uint8Array, nowMs: number): Extract<VerifiedRelease, { kind: 'patient' }> {
  const m = releaseFields(bytes);
  if (m.mailboxCapability.length < 16 || m.mailboxCapability.length > 64) fail('MALFORMED', 'mailbox capability must be 16..64 bytes');
  bytesOfLength(m.mailboxId, MAILBOX_ID_BYTES, 'mailbox_id');
  if (!constantTimeEqual(mailboxIdFromCapability(m.mailboxCapability), m.mailboxId)) fail('RESERVATION_MISMATCH', 'capability does not open this mailbox');
  const issuedAtMs = u64(m.issuedAtMs, 'issued_at_ms');
  checkCommandTime(issuedAtMs, nowMs);
  return { kind: 'patient', therapistId: toHex(m.therapistKey), slotIdHex: toHex(m.slotId), mailboxIdHex: toHex(m.mailboxId), issuedAtMs };
}
