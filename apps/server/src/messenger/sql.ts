/** TypeORM returns `[rows, affectedCount]` for UPDATE/DELETE … RETURNING; SELECT and INSERT give rows. */
export function returned<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

/** PostgreSQL unique_violation, optionally on a named constraint. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const err = e as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = err?.driverError?.code ?? err?.code;
  const name = err?.driverError?.constraint ?? err?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}
