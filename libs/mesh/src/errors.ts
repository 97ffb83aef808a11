export const MESH_ERROR_CODES = [
  'INVALID_REGION',
  'MALFORMED',
  'TOO_LARGE',
  'TTL_EXPIRED',
  'HOP_LIMIT',
  'BAD_SIGNATURE',
  'INVALID_KEY',
  'STALE_SEQUENCE',
  'REPLAYED',
  'RATE_LIMITED',
  'QUEUE_FULL',
  'PROOF_REJECTED',
  'NO_ROUTE',
  'NO_LINK',
  'DUTY_CYCLE',
  'TIMEOUT',
  'REMOTE_FAILURE',
] as const;

export type MeshErrorCode = (typeof MESH_ERROR_CODES)[number];

/** The mesh layer's one error type. */
export class MeshError extends Error {
  constructor(
    readonly code: MeshErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MeshError';
  }
}

export function isMeshError(e: unknown): e is MeshError {
  return e instanceof MeshError;
}

export function meshFail(code: MeshErrorCode, message: string, cause?: unknown): never {
  throw new MeshError(code, message, cause === undefined ? undefined : { cause });
}
