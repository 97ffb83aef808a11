/**
 * @qpc/fapp: the Free Appointment Propagation Protocol, sans-IO. Pure functions over
 * bytes and immutable state; the clock comes in as `nowMs`, randomness and crypto from
 * @qpc/crypto. Every refusal is a FappError with a stable code. Spec:
 * docs/specs/fapp-protocol.md.
 */
export { FappError, FAPP_ERROR_CODES, isFappError, type FappErrorCode } from './errors.js';
export * from './limits.js';
export * from './batch.js';
export { isValidPlz, assertPlz, isValidPlzPrefix, assertPlzPrefix, UNASSIGNED_LEITREGIONEN, MIN_PLZ, MAX_PLZ } from './plz.js';
export { isValidLanguage, assertLanguage, LANGUAGE_CODES, SIGN_LANGUAGE_CODES } from './language.js';
export {
  BERLIN_TIME_ZONE,
  wallTimeToUtc,
  zonedParts,
  zoneOffsetMs,
  addDays,
  weekdayOf,
  type WallTime,
  type ZonedParts,
} from './time.js';
export { decodeMessage } from './codec.js';
export { signingInput, signEnvelope, encodeEnvelope, verifyEnvelope, openEnvelope, forwardEnvelope, type SignatureVerifier, type VerifiedEnvelope } from './envelope.js';
export {
  licenceCommitment,
  licenceMatches,
  issueAttestation,
  verifyAttestation,
  checkAttestation,
  createTrustStore,
  issueRevocationList,
  applyRevocationList,
  type Attestation,
  type AttestationCache,
  type CachedAttestation,
  type Authority,
  type TrustStore,
  type AttestationStatus,
  type IssueAttestationInput,
  type IssuedAttestation,
  type RevocationListInput,
  type RevocationResult,
} from './attestation.js';
export {
  buildAnnounce,
  verifyAnnounce,
  validateAnnounceBody,
  type Announce,
  type AnnounceSlot,
  type AnnounceInput,
  type SlotInput,
  type SlotDuration,
  type AnnouncePolicy,
  type VerifiedAnnounce,
} from './announce.js';
export {
  emptyAnnounceStore,
  ingestVerified,
  ingestAnnounce,
  pruneExpired,
  announcesForPrefix,
  sameAnnounce,
  type AnnounceStore,
  type AnnounceRecord,
  type Tombstone,
  type IngestResult,
} from './store.js';
export {
  validateFilter,
  filterFromQuery,
  decodeQuery,
  queryFromFilter,
  announceMatches,
  slotMatches,
  matchSlots,
  buildSlotResponse,
  type SlotFilter,
  type MatchCandidate,
  type MatchableAnnounce,
  type MatchOptions,
  type SlotMatch,
} from './query.js';
export { slotTransition, effectiveSlotState, type SlotState, type SlotEvent, type SlotTransition } from './hold.js';
export {
  SEALED_RESERVATION_BYTES,
  SEALED_REPLY_BYTES,
  STAMP_WINDOWS_ACCEPTED,
  MAX_COMMAND_AGE_MS,
  mailboxIdFromCapability,
  stampWindow,
  stampContext,
  createReservation,
  verifyReservation,
  rememberStamp,
  openReservation,
  buildConfirm,
  verifyConfirm,
  openConfirm,
  buildTherapistRelease,
  verifyTherapistRelease,
  buildPatientCancel,
  verifyPatientCancel,
  type Decision,
  type CreateReservationInput,
  type PatientReservation,
  type VerifiedReservation,
  type ReservationPolicy,
  type SeenStamps,
  type OpenedReservation,
  type VerifiedConfirm,
  type OpenedReply,
  type VerifiedRelease,
} from './reservation.js';
export { FACHRICHTUNG_LABELS, ALTERSGRUPPE_LABELS, MODALITAET_LABELS, KOSTENTRAEGER_LABELS, TERMINART_LABELS } from './labels.js';
export { CHALLENGE_BYTES, challengeSigningInput, signChallenge, verifyChallenge } from './challenge.js';
