/** Every failure this library reports. Callers switch on `code`, never on `message`. */
export type CryptoErrorCode =
  | 'BAD_SIGNATURE'
  | 'DECRYPT_FAILED'
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'MALFORMED'
  | 'UNSUPPORTED_VERSION'
  | 'WRONG_PASSWORD'
  | 'RECOVERY_CODE_INVALID'
  | 'RECOVERY_CODE_USED'
  | 'ABORTED'
  | 'PROOF_INVALID'
  // MLS
  | 'STALE_EPOCH'
  | 'FUTURE_EPOCH'
  | 'WRONG_GROUP'
  | 'NOT_A_MEMBER'
  | 'UNKNOWN_MEMBER'
  | 'WRONG_CIPHERSUITE'
  | 'KEY_PACKAGE_INVALID'
  | 'WELCOME_NOT_FOR_US'
  | 'UNEXPECTED_MESSAGE'
  | 'PENDING_COMMIT'
  | 'REPLAYED_MESSAGE'
  | 'MLS_FAILURE';

/** The one error type of the crypto layer. `cause` carries the underlying library error, if any. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? code, options);
    this.name = 'CryptoError';
    this.code = code;
  }
}

export function isCryptoError(e: unknown, code?: CryptoErrorCode): e is CryptoError {
  return e instanceof CryptoError && (code === undefined || e.code === code);
}

/** Runs `fn`; anything it throws that is not already a CryptoError becomes one with `code`. */
export function wrapErrors<T>(code: CryptoErrorCode, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new CryptoError(code, undefined, { cause: e });
  }
}

export async function wrapErrorsAsync<T>(code: CryptoErrorCode, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new CryptoError(code, undefined, { cause: e });
  }
}
