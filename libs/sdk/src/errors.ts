/** An RFC 9457 problem returned by the server, or a transport failure (`code: 'network'`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problem: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type StoreErrorCode = 'store.locked' | 'store.corrupt' | 'store.io' | 'store.invalid_key' | 'store.in_use';

/** The local store could not be opened or read: wrong password, a damaged file, an I/O failure. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
