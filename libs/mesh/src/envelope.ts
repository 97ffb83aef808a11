import { create } from '@bufbuild/protobuf';
import { meshAddress, randomBytes, sha256, sign, toHex, verify, type SigningKeyPair } from '@qpc/crypto';
import { MeshEnvelopeBodySchema, MeshEnvelopeSchema } from '@qpc/proto';
import { decodeMesh, encodeMesh, expectLength, meshSigningInput, u64 } from './codec.js';
import { meshFail } from './errors.js';

/** Largest MeshEnvelope accepted anywhere (bytes on the wire). */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
/** Largest payload a sender may put in an envelope (leaves room for the rest). */
export const MAX_PAYLOAD_BYTES = MAX_ENVELOPE_BYTES - 512;
export const MAX_ENVELOPE_HOPS = 16;
/** Longest lifetime an envelope may claim; relays keep nothing longer. */
export const MAX_ENVELOPE_TTL_MS = 14 * 24 * 3600_000;
export const MESH_ADDRESS_BYTES = 16;
export const CONTENT_ID_BYTES = 16;
const NONCE_BYTES = 16;
/** Tolerated clock difference for created_at in the future. */
export const ENVELOPE_CLOCK_SKEW_MS = 5 * 60_000;
const TAG = 'envelope';

/** A checked envelope: signature over the body as received, times and hops within limits. */
export interface OpenedEnvelope {
  senderKey: Uint8Array;
  recipient: Uint8Array;
  /** Hex of `recipient`: the store-and-forward queue key. */
  recipientHex: string;
  createdAtMs: number;
  expiresAtMs: number;
  maxHops: number;
  hopCount: number;
  payload: Uint8Array;
  /** SHA-256(body)[0..16]: equal for every copy regardless of hop count. */
  contentId: Uint8Array;
  contentIdHex: string;
  /** The envelope bytes as received. */
  bytes: Uint8Array;
}

export interface SealEnvelopeInput {
  sender: SigningKeyPair;
  /** 16-byte mesh address of the recipient (meshAddress(recipient's Ed25519 key)). */
  recipient: Uint8Array;
  payload: Uint8Array;
  nowMs: number;
  ttlMs: number;
  maxHops?: number;
  /** For tests only: fixed nonce instead of random bytes. */
  nonce?: Uint8Array;
}

/** Builds and signs an envelope (hop count 0). Payload encryption is the caller's (HPKE seal). */
export function createMeshEnvelope(input: SealEnvelopeInput): Uint8Array {
  expectLength(input.recipient, MESH_ADDRESS_BYTES, 'recipient');
  if (input.payload.length > MAX_PAYLOAD_BYTES) meshFail('TOO_LARGE', `payload of ${input.payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  if (!Number.isSafeInteger(input.ttlMs) || input.ttlMs <= 0 || input.ttlMs > MAX_ENVELOPE_TTL_MS) meshFail('MALFORMED', 'ttlMs must be 1 ms .. 14 days');
  const maxHops = input.maxHops ?? 8;
  if (!Number.isInteger(maxHops) || maxHops < 1 || maxHops > MAX_ENVELOPE_HOPS) meshFail('MALFORMED', `maxHops must be 1..${MAX_ENVELOPE_HOPS}`);
  const body = encodeMesh(
    MeshEnvelopeBodySchema,
    create(MeshEnvelopeBodySchema, {
      senderKey: input.sender.publicKey,
      recipient: input.recipient,
      createdAtMs: BigInt(input.nowMs),
      expiresAtMs: BigInt(input.nowMs + input.ttlMs),
      maxHops,
      payload: input.payload,
      nonce: input.nonce ?? randomBytes(NONCE_BYTES),
    }),
  );
  const signature = sign(input.sender.secretKey, meshSigningInput(TAG, body));
  return encodeMesh(MeshEnvelopeSchema, create(MeshEnvelopeSchema, { body, signature, hopCount: 0 }));
}

function safeVerify(key: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return verify(key, msg, sig);
  } catch {
    return false;
  }
}

/**
 * Checks envelope bytes as a relay or recipient must: size, signature over the body
 * exactly as received, expiry and hop limit. Throws MeshError.
 */
export function openMeshEnvelope(bytes: Uint8Array, nowMs: number): OpenedEnvelope {
  const env = decodeMesh(MeshEnvelopeSchema, bytes, MAX_ENVELOPE_BYTES);
  const b = decodeMesh(MeshEnvelopeBodySchema, env.body, MAX_ENVELOPE_BYTES);
  expectLength(b.senderKey, 32, 'sender_key', 'INVALID_KEY');
  expectLength(b.recipient, MESH_ADDRESS_BYTES, 'recipient');
  expectLength(b.nonce, NONCE_BYTES, 'nonce');
  if (env.signature.length !== 64) meshFail('BAD_SIGNATURE', 'signature must be 64 bytes');
  const createdAtMs = u64(b.createdAtMs, 'created_at_ms');
  const expiresAtMs = u64(b.expiresAtMs, 'expires_at_ms');
  if (b.maxHops < 1 || b.maxHops > MAX_ENVELOPE_HOPS) meshFail('MALFORMED', `max_hops must be 1..${MAX_ENVELOPE_HOPS}`);
  if (expiresAtMs <= createdAtMs || expiresAtMs - createdAtMs > MAX_ENVELOPE_TTL_MS) meshFail('MALFORMED', 'lifetime must be 1 ms .. 14 days');
  if (!safeVerify(b.senderKey, meshSigningInput(TAG, env.body), env.signature)) meshFail('BAD_SIGNATURE', 'envelope signature does not verify');
  if (createdAtMs > nowMs + ENVELOPE_CLOCK_SKEW_MS) meshFail('MALFORMED', 'created_at is in the future');
  if (expiresAtMs <= nowMs) meshFail('TTL_EXPIRED', 'envelope has expired');
  if (env.hopCount > b.maxHops) meshFail('HOP_LIMIT', `hop_count ${env.hopCount} exceeds max_hops ${b.maxHops}`);
  const contentId = sha256(env.body).slice(0, CONTENT_ID_BYTES);
  return {
    senderKey: b.senderKey,
    recipient: b.recipient,
    recipientHex: toHex(b.recipient),
    createdAtMs,
    expiresAtMs,
    maxHops: b.maxHops,
    hopCount: env.hopCount,
    payload: b.payload,
    contentId,
    contentIdHex: toHex(contentId),
    bytes,
  };
}

/** What a relay sends on: hop_count + 1, body and signature untouched. Throws HOP_LIMIT at the limit. */
export function forwardMeshEnvelope(opened: OpenedEnvelope): Uint8Array {
  if (opened.hopCount + 1 > opened.maxHops) meshFail('HOP_LIMIT', `hop_count would exceed max_hops ${opened.maxHops}`);
  const env = decodeMesh(MeshEnvelopeSchema, opened.bytes, MAX_ENVELOPE_BYTES);
  return encodeMesh(MeshEnvelopeSchema, create(MeshEnvelopeSchema, { body: env.body, signature: env.signature, hopCount: env.hopCount + 1 }));
}

/** True when `opened` is addressed to the holder of `publicKey`. */
export function isAddressedTo(opened: OpenedEnvelope, publicKey: Uint8Array): boolean {
  return toHex(meshAddress(publicKey)) === opened.recipientHex;
}
