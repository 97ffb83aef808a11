import { create, toBinary } from '@bufbuild/protobuf';
import { concatBytes, constantTimeEqual, randomBytes, sha256, toHex, utf8, type SigningKeyPair } from '@qpc/crypto';
import { FappKind, FappSignedSchema, LicenceAttestationSchema, RevocationListSchema, type Fachrichtung, type FappSigned } from '@qpc/proto';
import { bytesOfLength, decodeMessage, enumSet, KNOWN, u64 } from './codec.js';
import { encodeEnvelope, type SignatureVerifier, signEnvelope, verifyEnvelope } from './envelope.js';
import { fail } from './errors.js';
import {
  COMMITMENT_BYTES,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  ID_BYTES,
  LICENCE_SALT_BYTES,
  MAX_CLOCK_SKEW_MS,
  MAX_HOPS,
  MAX_LICENCE_NUMBER_LENGTH,
  MAX_REVOCATION_LIST_BYTES,
  MAX_REVOKED_PER_LIST,
} from './limits.js';

/** A decoded, signature-checked licence attestation. */
export interface Attestation {
  attestationId: Uint8Array;
  therapistKey: Uint8Array;
  licenceCommitment: Uint8Array;
  fachrichtungen: Fachrichtung[];
  issuedAtMs: number;
  validUntilMs: number;
  /** The authority that signed it (envelope signer). */
  authorityKey: Uint8Array;
}

/** A licensing authority a node trusts. */
export interface Authority {
  name: string;
  publicKey: Uint8Array;
}

interface AuthorityEntry {
  authority: Authority;
  /** Sequence of the newest revocation list applied, -1 if none. */
  revocationSequence: number;
  revoked: ReadonlySet<string>;
}

/** Immutable: every update returns a new store. Keys are hex authority keys. */
export interface TrustStore {
  readonly authorities: ReadonlyMap<string, AuthorityEntry>;
}

/**
 * SHA-256("qpc-fapp-v1/licence" || 0x00 || salt || licence number (UTF-8, trimmed, upper case)).
 * The salt (32 random bytes) keeps the licence number from being guessed from the commitment.
 */
export function licenceCommitment(licenceNumber: string, salt: Uint8Array): Uint8Array {
  const normalized = licenceNumber.trim().toUpperCase();
  if (normalized.length === 0 || normalized.length > MAX_LICENCE_NUMBER_LENGTH) {
    fail('MALFORMED', `licence number must be 1..${MAX_LICENCE_NUMBER_LENGTH} characters`);
  }
  bytesOfLength(salt, LICENCE_SALT_BYTES, 'licence salt');
  return sha256(concatBytes(utf8('qpc-fapp-v1/licence\u0000'), salt, utf8(normalized)));
}

export interface IssueAttestationInput {
  therapistKey: Uint8Array;
  licenceNumber: string;
  fachrichtungen: Fachrichtung[];
  validUntilMs: number;
  /** Defaults to 32 random bytes; returned so the therapist can later prove the licence. */
  salt?: Uint8Array;
  attestationId?: Uint8Array;
}

export interface IssuedAttestation {
  /** FappSigned bytes, ready to put into an announce. */
  bytes: Uint8Array;
  envelope: FappSigned;
  attestation: Attestation;
  salt: Uint8Array;
}

/** Authority side: signs {therapist key, licence commitment, Fachrichtungen, validity}. */
export function issueAttestation(authority: SigningKeyPair, input: IssueAttestationInput, nowMs: number): IssuedAttestation {
  bytesOfLength(input.therapistKey, ED25519_PUBLIC_KEY_BYTES, 'therapist key', 'INVALID_KEY');
  const fachrichtungen = enumSet(input.fachrichtungen, KNOWN.fachrichtung, 'fachrichtungen', true);
  if (!(input.validUntilMs > nowMs)) fail('ATTESTATION_EXPIRED', 'valid_until must be in the future');
  const salt = input.salt ?? randomBytes(LICENCE_SALT_BYTES);
  const attestationId = input.attestationId ?? randomBytes(ID_BYTES);
  bytesOfLength(attestationId, ID_BYTES, 'attestation id');
  const body = toBinary(
    LicenceAttestationSchema,
    create(LicenceAttestationSchema, {
      attestationId,
      therapistKey: input.therapistKey,
      licenceCommitment: licenceCommitment(input.licenceNumber, salt),
      fachrichtungen,
      issuedAtMs: BigInt(nowMs),
      validUntilMs: BigInt(input.validUntilMs),
    }),
  );
  const envelope = signEnvelope(FappKind.LICENCE_ATTESTATION, body, authority);
  return { bytes: encodeEnvelope(envelope), envelope, attestation: decodeAttestationBody(body, authority.publicKey), salt };
}

function decodeAttestationBody(body: Uint8Array, authorityKey: Uint8Array): Attestation {
  const m = decodeMessage(LicenceAttestationSchema, body);
  const a: Attestation = {
    attestationId: bytesOfLength(m.attestationId, ID_BYTES, 'attestation_id'),
    therapistKey: bytesOfLength(m.therapistKey, ED25519_PUBLIC_KEY_BYTES, 'therapist_key', 'INVALID_KEY'),
    licenceCommitment: bytesOfLength(m.licenceCommitment, COMMITMENT_BYTES, 'licence_commitment'),
    fachrichtungen: enumSet(m.fachrichtungen, KNOWN.fachrichtung, 'fachrichtungen', true),
    issuedAtMs: u64(m.issuedAtMs, 'issued_at_ms'),
    validUntilMs: u64(m.validUntilMs, 'valid_until_ms'),
    authorityKey,
  };
  if (a.validUntilMs <= a.issuedAtMs) fail('MALFORMED', 'valid_until_ms must be after issued_at_ms');
  return a;
}

/** True if the therapist's (licence number, salt) opens the attestation's commitment. */
export function licenceMatches(attestation: Attestation, licenceNumber: string, salt: Uint8Array): boolean {
  const c = licenceCommitment(licenceNumber, salt);
  return toHex(c) === toHex(attestation.licenceCommitment);
}

export function createTrustStore(authorities: readonly Authority[]): TrustStore {
  const map = new Map<string, AuthorityEntry>();
  for (const a of authorities) {
    bytesOfLength(a.publicKey, ED25519_PUBLIC_KEY_BYTES, `authority ${a.name}`, 'INVALID_KEY');
    map.set(toHex(a.publicKey), { authority: a, revocationSequence: -1, revoked: new Set() });
  }
  return { authorities: map };
}

export type AttestationStatus =
  | { kind: 'verified'; attestation: Attestation; authority: Authority }
  | { kind: 'unverified' };

/** An attestation whose signature and fields checked out, with the signed body it came from. */
export interface CachedAttestation {
  attestation: Attestation;
  /** The attestation's signed body (its own copy): a hit must carry exactly these bytes. */
  body: Uint8Array;
  /** Hex of `attestation.attestationId`, as revocation lists are kept. */
  idHex: string;
}

/**
 * Attestations whose signature and fields already checked out, keyed by the hex of their
 * signature. A therapist resends the same attestation with every announce, so a node can skip
 * its second signature check; trust, revocation and time are still checked every time. An entry
 * serves only an envelope of the attestation kind with the same signature, signer and body
 * (compared byte for byte), so a forged body or signer under a known signature is checked in full
 * and fails. A Map works; callers bound its size.
 */
export interface AttestationCache {
  get(key: string): CachedAttestation | undefined;
  set(key: string, value: CachedAttestation): unknown;
}

/** The cached attestation for exactly this envelope, if any. */
function cachedFor(cache: AttestationCache, key: string, envelope: FappSigned): CachedAttestation | undefined {
  if (envelope.kind !== FappKind.LICENCE_ATTESTATION || envelope.hopCount > MAX_HOPS) return undefined;
  const c = cache.get(key);
  return c && constantTimeEqual(c.attestation.authorityKey, envelope.signerKey) && constantTimeEqual(c.body, envelope.body) ? c : undefined;
}

/** Decodes a verified attestation into bytes of its own (the envelope may be a view into a whole announce). */
function ownAttestation(body: Uint8Array, signerKey: Uint8Array): CachedAttestation {
  const own = body.slice();
  const attestation = decodeAttestationBody(own, signerKey.slice());
  return { attestation, body: own, idHex: toHex(attestation.attestationId) };
}

/**
 * Validates an attestation envelope for `therapistKey` at `nowMs`, in this order:
 * UNKNOWN_ATTESTATION (signer not in the trust store), BAD_SIGNATURE, MALFORMED fields,
 * ATTESTATION_MISMATCH (other therapist), REVOKED_ATTESTATION, ATTESTATION_EXPIRED.
 */
export function checkAttestation(
  envelope: FappSigned,
  therapistKey: Uint8Array,
  trust: TrustStore,
  nowMs: number,
  cache?: AttestationCache,
  verifySignature?: SignatureVerifier,
): Extract<AttestationStatus, { kind: 'verified' }> {
  const entry = trust.authorities.get(toHex(envelope.signerKey));
  if (!entry) fail('UNKNOWN_ATTESTATION', 'attestation signed by an authority not in the trust store');
  const key = cache && envelope.signature.length === ED25519_SIGNATURE_BYTES ? toHex(envelope.signature) : '';
  let c = key === '' ? undefined : cachedFor(cache!, key, envelope);
  if (!c) {
    const v = verifyEnvelope(envelope, FappKind.LICENCE_ATTESTATION, verifySignature);
    c = ownAttestation(v.body, v.signerKey);
    if (key !== '') cache!.set(key, c);
  }
  const a = c.attestation;
  if (!constantTimeEqual(a.therapistKey, therapistKey)) fail('ATTESTATION_MISMATCH', 'attestation is for another therapist key');
  if (entry.revoked.has(c.idHex)) fail('REVOKED_ATTESTATION', 'attestation has been revoked');
  if (a.validUntilMs <= nowMs) fail('ATTESTATION_EXPIRED', 'attestation is no longer valid');
  if (a.issuedAtMs > nowMs + MAX_CLOCK_SKEW_MS) fail('ISSUED_IN_FUTURE', 'attestation issued in the future');
  return { kind: 'verified', attestation: a, authority: entry.authority };
}

/** Decodes and checks attestation bytes (FappSigned) standalone, e.g. in the CLI. */
export function verifyAttestation(bytes: Uint8Array, therapistKey: Uint8Array, trust: TrustStore, nowMs: number): Extract<AttestationStatus, { kind: 'verified' }> {
  const env = decodeMessage(FappSignedSchema, bytes);
  return checkAttestation(env, therapistKey, trust, nowMs);
}

export interface RevocationListInput {
  sequence: number;
  revokedAttestationIds: Uint8Array[];
}

/** Authority side: signs the complete list of revoked attestation ids. */
export function issueRevocationList(authority: SigningKeyPair, input: RevocationListInput, nowMs: number): Uint8Array {
  if (!Number.isSafeInteger(input.sequence) || input.sequence < 0) fail('MALFORMED', 'sequence must be a non-negative integer');
  for (const id of input.revokedAttestationIds) bytesOfLength(id, ID_BYTES, 'revoked attestation id');
  const body = toBinary(
    RevocationListSchema,
    create(RevocationListSchema, {
      sequence: BigInt(input.sequence),
      issuedAtMs: BigInt(nowMs),
      revokedAttestationIds: input.revokedAttestationIds,
    }),
  );
  return encodeEnvelope(signEnvelope(FappKind.REVOCATION_LIST, body, authority));
}

export type RevocationResult =
  | { kind: 'applied'; trust: TrustStore; authority: Authority; sequence: number; revoked: number }
  | { kind: 'unchanged'; trust: TrustStore };

/**
 * Applies a signed revocation list. Throws UNKNOWN_ATTESTATION (authority not trusted),
 * BAD_SIGNATURE, MALFORMED, ISSUED_IN_FUTURE, STALE_REVOCATION_LIST (lower sequence).
 * The same sequence again is `unchanged`.
 */
export function applyRevocationList(trust: TrustStore, bytes: Uint8Array, nowMs: number): RevocationResult {
  const env = decodeMessage(FappSignedSchema, bytes, MAX_REVOCATION_LIST_BYTES);
  const entry = trust.authorities.get(toHex(env.signerKey));
  if (!entry) fail('UNKNOWN_ATTESTATION', 'revocation list signed by an authority not in the trust store');
  const v = verifyEnvelope(env, FappKind.REVOCATION_LIST);
  const m = decodeMessage(RevocationListSchema, v.body, MAX_REVOCATION_LIST_BYTES);
  const sequence = u64(m.sequence, 'sequence');
  if (u64(m.issuedAtMs, 'issued_at_ms') > nowMs + MAX_CLOCK_SKEW_MS) fail('ISSUED_IN_FUTURE', 'revocation list issued in the future');
  if (m.revokedAttestationIds.length > MAX_REVOKED_PER_LIST) fail('TOO_LARGE', 'too many revoked ids');
  if (sequence === entry.revocationSequence) return { kind: 'unchanged', trust };
  if (sequence < entry.revocationSequence) fail('STALE_REVOCATION_LIST', `sequence ${sequence} is older than ${entry.revocationSequence}`);
  const revoked = new Set(m.revokedAttestationIds.map((id) => toHex(bytesOfLength(id, ID_BYTES, 'revoked id'))));
  const authorities = new Map(trust.authorities);
  authorities.set(toHex(env.signerKey), { authority: entry.authority, revocationSequence: sequence, revoked });
  return { kind: 'applied', trust: { authorities }, authority: entry.authority, sequence, revoked: revoked.size };
}
