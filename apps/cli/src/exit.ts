import { ApiError, StoreError, VerificationError } from '@qpc/sdk';

/** Exit codes (sysexits.h where one fits); docs/cli.md lists them. */
export const EXIT = {
  OK: 0,
  /** The server refused the operation (not found, conflict, limit). */
  FAILED: 1,
  /** The command line was wrong. */
  USAGE: 64,
  /** The local store is damaged. */
  DATA: 65,
  /** No such user. */
  NO_USER: 67,
  /** The server cannot be reached. */
  UNAVAILABLE: 69,
  /** A bug. */
  SOFTWARE: 70,
  /** The local store cannot be written. */
  IO: 74,
  /** Wrong password, or a device that was revoked. */
  NO_PERM: 77,
} as const;

/** One line for a person, and the exit code, for anything the SDK throws. */
export function describeError(e: unknown, server: string): { message: string; code: number } {
  if (e instanceof ApiError) {
    if (e.code === 'network') return { message: `cannot reach ${server}`, code: EXIT.UNAVAILABLE };
    if (e.code === 'accounts.not_found') return { message: 'no such user', code: EXIT.NO_USER };
    if (e.code === 'auth.invalid_credentials') return { message: 'wrong username or password', code: EXIT.NO_PERM };
    if (e.code === 'devices.proof_invalid' || e.code === 'devices.not_found' || e.code === 'devices.revoked')
      return { message: 'this device is no longer registered for the account (revoked?); use another --data-dir to add a new device', code: EXIT.NO_PERM };
    if (e.code === 'auth.rate_limited') return { message: 'too many login attempts; wait a minute', code: EXIT.NO_PERM };
    if (e.code === 'devices.limit_reached') return { message: 'this account already has five devices; remove one with /devices rm', code: EXIT.FAILED };
    return { message: `${e.message} (${e.code})`, code: EXIT.FAILED };
  }
  if (e instanceof StoreError) {
    if (e.code === 'store.locked') return { message: `${e.message}`, code: EXIT.NO_PERM };
    if (e.code === 'store.io') return { message: e.message, code: EXIT.IO };
    return { message: `${e.message} — move the directory away to start over on a new device`, code: EXIT.DATA };
  }
  if (e instanceof VerificationError) return { message: `verification failed: ${e.message}`, code: EXIT.FAILED };
  return { message: e instanceof Error ? e.message : String(e), code: EXIT.SOFTWARE };
}
