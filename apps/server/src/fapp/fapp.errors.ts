import { FappError, type FappErrorCode } from '@qpc/fapp';
import { libraryErrorStatus } from '../common/problem.filter.js';

const CONFLICT = new Set<FappErrorCode>(['STALE_SEQUENCE', 'SLOT_HELD', 'SLOT_BOOKED', 'STAMP_REUSED', 'NOT_HELD', 'HOLD_MISMATCH', 'STALE_REVOCATION_LIST']);

/** HTTP status of each FAPP error code; everything not listed is a 400. */
export function fappStatus(code: string): number {
  if (CONFLICT.has(code as FappErrorCode)) return 409;
  if (code === 'TOO_LARGE') return 413;
  if (code === 'UNKNOWN_SLOT') return 404;
  if (code === 'UNVERIFIED_REJECTED') return 403;
  return 400;
}

libraryErrorStatus.set(new FappError('MALFORMED', '').name, { prefix: 'fapp', status: fappStatus });
