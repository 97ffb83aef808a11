import { create, toBinary } from '@bufbuild/protobuf';
import { concatBytes, sign, utf8, verify, type SigningKeyPair } from '@qpc/crypto';
import { FappKind, FappSignedSchema, type FappSigned } from '@qpc/proto';
import { bytesOfLength, decodeMessage } from './codec.js';
import { fail } from './errors.js';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, MAX_HOPS, MAX_MESSAGE_BYTES } from './limits.js';

// Each kind signs under its own tag, so a signature over one kind of body can never be
// presented as another kind even if the bytes happened to parse as both.
const KIND_TAG: Record<Exclude<FappKind, FappKind.UNSPECIFIED>, string> = {
  [FappKind.SLOT_ANNOUNCE]: 'slot-announce',
  [FappKind.LICENCE_ATTESTATION]: 'licence-attestation',
  [FappKind.REVOCATION_LIST]: 'revocation-list',
  [FappKind.SLOT_CONFIRM]: 'slot-confirm',
  [FappKind.SLOT_RELEASE]: 'slot-release',
};

/** "qpc-fapp-v1/" + tag + 0x00 per kind, encoded once (every announce's check needs its kind's). */
const SIGNING_PREFIX = new Map<FappKind, Uint8Array>(Object.entries(KIND_TAG).map(([kind, tag]) => [Number(kind) as FappKind, utf8(`qpc-fapp-v1/${tag}\u0000`)]));

/** The bytes an Ed25519 signature covers: "qpc-fapp-v1/" + tag + 0x00 + body. */
export function signingInput(kind: FappKind, body: Uint8Array): Uint8Array {
  const prefix = SIGNING_PREFIX.get(kind);
  if (prefix === undefined) fail('WRONG_KIND', `no signing tag for kind ${kind}`);
  return concatBytes(prefix, body);
}

/** Signs serialized body bytes and wraps them in a FappSigned envelope (hop count 0). */
export function signEnvelope(kind: FappKind, body: Uint8Array, signer: SigningKeyPair): FappSigned {
  return create(FappSignedSchema, {
    kind,
    body,
    signerKey: signer.publicKey,
    signature: sign(signer.secretKey, signingInput(kind, body)),
    hopCount: 0,
  });
}

export function encodeEnvelope(envelope: FappSigned): Uint8Array {
  return toBinary(FappSignedSchema, envelope);
}

/** A FappSigned whose signature has been checked over the body bytes as received. */
export interface VerifiedEnvelope {
  kind: FappKind;
  body: Uint8Array;
  signerKey: Uint8Array;
  hopCount: number;
  envelope: FappSigned;
}

/**
 * Checks one Ed25519 signature (`verify` of @qpc/crypto by default). A caller may pass one
 * that records the check and answers true, to run many checks elsewhere (other threads) —
 * the result then stands only once every recorded check has passed.
 */
export type SignatureVerifier = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/**
 * Checks an already decoded envelope: kind, key and signature lengths, hop limit, and the
 * signature over `body` exactly as received (never re-serialized).
 */
export function verifyEnvelope(envelope: FappSigned, expected: FappKind, verifySignature: SignatureVerifier = verify): VerifiedEnvelope {
  if (envelope.kind !== expected) fail('WRONG_KIND', `expected kind ${FappKind[expected]}, got ${envelope.kind}`);
  bytesOfLength(envelope.signerKey, ED25519_PUBLIC_KEY_BYTES, 'signer_key', 'INVALID_KEY');
  if (envelope.signature.length !== ED25519_SIGNATURE_BYTES) fail('BAD_SIGNATURE', 'signature must be 64 bytes');
  if (envelope.hopCount > MAX_HOPS) fail('HOP_LIMIT', `hop_count ${envelope.hopCount} exceeds ${MAX_HOPS}`);
  let ok: boolean;
  try {
    ok = verifySignature(envelope.signerKey, signingInput(expected, envelope.body), envelope.signature);
  } catch {
    ok = false;
  }
  if (!ok) fail('BAD_SIGNATURE', `signature over ${FappKind[expected]} body does not verify`);
  return { kind: envelope.kind, body: envelope.body, signerKey: envelope.signerKey, hopCount: envelope.hopCount, envelope };
}

/** Decodes FappSigned bytes and verifies them (see verifyEnvelope). */
export function openEnvelope(bytes: Uint8Array, expected: FappKind, maxBytes = MAX_MESSAGE_BYTES): VerifiedEnvelope {
  return verifyEnvelope(decodeMessage(FappSignedSchema, bytes, maxBytes), expected);
}

/**
 * What a relay sends on: the same envelope with hop_count + 1. The body and signature
 * are copied untouched, so every later hop verifies the original bytes.
 */
export function forwardEnvelope(bytes: Uint8Array): Uint8Array {
  const env = decodeMessage(FappSignedSchema, bytes);
  if (env.hopCount + 1 > MAX_HOPS) fail('HOP_LIMIT', `hop_count would exceed ${MAX_HOPS}`);
  return toBinary(FappSignedSchema, { ...env, hopCount: env.hopCount + 1 });
}
