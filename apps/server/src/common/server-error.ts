/**
 * The server layer's one error type. `code` is stable and machine-readable
 * (`<feature>.<reason>`); the HTTP status travels with it so the transport mapper
 * does not need a lookup table per feature.
 */
export class ServerError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ServerError';
  }
}

export interface FieldProblem {
  field: string;
  messages: string[];
}
