export type MeshErrorCode = 'INVALID_REGION' | 'MALFORMED' | 'TOO_LARGE' | 'TTL_EXPIRED';

/** The mesh layer's one error type. */
export class MeshError extends Error {
  constructor(
    readonly code: MeshErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MeshError';
  }
}
