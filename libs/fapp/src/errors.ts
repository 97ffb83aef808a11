/**
 * Every way a FAPP input can be refused. Codes are stable: servers map them to
 * problem+json (`fapp.<lower_case_code>`), clients switch on them.
 */
export const FAPP_ERROR_CODES = [
  'MALFORMED',
  'TOO_LARGE',
  'TOO_MANY_SLOTS',
  'UNKNOWN_ENUM',
  'MISSING_FIELD',
  'WRONG_KIND',
  'INVALID_KEY',
  'BAD_SIGNATURE',
  'SIGNER_MISMATCH',
  'HOP_LIMIT',
  'INVALID_PLZ',
  'INVALID_LANGUAGE',
  'INVALID_URL',
  'INVALID_TEXT',
  'INVALID_DURATION',
  'INVALID_GROUP_SIZE',
  'INVALID_SLOT_TIME',
  'DUPLICATE_SLOT',
  'SLOT_OVERLAP',
  'SLOT_IN_PAST',
  'SLOT_TOO_FAR',
  'ISSUED_IN_FUTURE',
  'EXPIRED',
  'EXPIRY_TOO_LONG',
  'STALE_SEQUENCE',
  'UNKNOWN_ATTESTATION',
  'REVOKED_ATTESTATION',
  'ATTESTATION_EXPIRED',
  'ATTESTATION_MISMATCH',
  'ATTESTATION_SCOPE',
  'UNVERIFIED_REJECTED',
  'STALE_REVOCATION_LIST',
  'INVALID_QUERY',
  'BAD_STAMP',
  'STALE_STAMP',
  'UNKNOWN_SLOT',
  'DECRYPT_FAILED',
  'RESERVATION_MISMATCH',
  'STAMP_REUSED',
  'SLOT_HELD',
  'SLOT_BOOKED',
  'NOT_HELD',
  'HOLD_MISMATCH',
] as const;

export type FappErrorCode = (typeof FAPP_ERROR_CODES)[number];

/** The one error type of @qpc/fapp. Decoders and validators throw nothing else. */
export class FappError extends Error {
  readonly code: FappErrorCode;

  constructor(code: FappErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'FappError';
    this.code = code;
  }
}

export function isFappError(e: unknown, code?: FappErrorCode): e is FappError {
  return e instanceof FappError && (code === undefined || e.code === code);
}

export function fail(code: FappErrorCode, message: string, cause?: unknown): never {
  throw new FappError(code, message, cause === undefined ? undefined : { cause });
}
