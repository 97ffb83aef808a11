import { create } from '@bufbuild/protobuf';
import { hkdfSha256, meshAddress, signingKeyPairFromSeed, utf8, type SigningKeyPair } from '@qpc/crypto';
import { FappMeshMessageSchema } from '@qpc/proto';
import { decodeMesh, encodeMesh } from './codec.js';
import { createMeshEnvelope, MAX_ENVELOPE_TTL_MS, MAX_PAYLOAD_BYTES } from './envelope.js';
import { meshFail } from './errors.js';

/**
 * FAPP reservations over the mesh (docs/mesh.md, "Reservations over the mesh"). A
 * MeshEnvelope's payload is a FappMeshMessage: a SlotReserve (content sealed to the therapist)
 * or a signed SlotConfirm (reply sealed to the patient). Neither is sealed again for the
 * envelope: relays see what the holding node sees, never the sealed parts.
 */
export type FappMeshMessage = { kind: 'reserve'; bytes: Uint8Array } | { kind: 'confirm'; bytes: Uint8Array };

export function encodeFappMeshMessage(m: FappMeshMessage): Uint8Array {
  return encodeMesh(FappMeshMessageSchema, create(FappMeshMessageSchema, { message: { case: m.kind, value: m.bytes } }));
}

/** Decodes an envelope payload; anything else than exactly one reserve or confirm is MALFORMED. */
export function decodeFappMeshMessage(payload: Uint8Array): FappMeshMessage {
  const m = decodeMesh(FappMeshMessageSchema, payload, MAX_PAYLOAD_BYTES);
  const { case: kind, value } = m.message;
  if (kind === undefined || value.length === 0) return meshFail('MALFORMED', 'FappMeshMessage carries neither a reserve nor a confirm');
  return { kind, bytes: value };
}

const REPLY_SALT = utf8('qpc-mesh-v1/reservation-reply');
const REPLY_INFO = utf8('qpc mesh reservation reply key v1');

/**
 * The patient's reply identity for one reservation, derived one-way from its mailbox
 * capability: the patient signs the reserving envelope with it, the holding node sends the
 * therapist's answer to its mesh address, and the patient fetches it from store-and-forward
 * with it. Fresh per reservation like the capability, so it links nothing; the holding node,
 * which sees only SHA-256 of the capability (the mailbox id), cannot derive it.
 */
export function reservationReplyIdentity(mailboxCapability: Uint8Array): SigningKeyPair {
  if (mailboxCapability.length < 16) meshFail('INVALID_KEY', 'mailbox capability must be at least 16 bytes');
  return signingKeyPairFromSeed(hkdfSha256(mailboxCapability, REPLY_SALT, REPLY_INFO, 32));
}

export interface FappMeshEnvelopeInput {
  sender: SigningKeyPair;
  /** 16-byte mesh address. */
  recipient: Uint8Array;
  message: FappMeshMessage;
  nowMs: number;
  ttlMs: number;
  maxHops?: number;
}

/** A signed MeshEnvelope carrying one FappMeshMessage; the lifetime is capped at the envelope maximum. */
export function createFappMeshEnvelope(input: FappMeshEnvelopeInput): Uint8Array {
  const ttlMs = Math.min(Math.max(1, Math.floor(input.ttlMs)), MAX_ENVELOPE_TTL_MS);
  return createMeshEnvelope({
    sender: input.sender,
    recipient: input.recipient,
    payload: encodeFappMeshMessage(input.message),
    nowMs: input.nowMs,
    ttlMs,
    ...(input.maxHops === undefined ? {} : { maxHops: input.maxHops }),
  });
}

/** The mesh address answers go to: the address of the key that signed the reserving envelope. */
export function replyAddressOf(senderKey: Uint8Array): Uint8Array {
  return meshAddress(senderKey);
}
