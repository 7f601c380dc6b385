/**
 * The storage layer's errors, in one place. Stores catch `isUniqueViolation` to turn a uniqueness rule the
 * database enforced into their own answer ("that name is taken"); everything else propagates.
 */

/** A PostgreSQL error, with its SQLSTATE (`code`, e.g. 23505 for a unique violation) when the server sent one. */
export class PostgresError extends Error {
  override name = 'PostgresError';
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly constraint: string | undefined;
  constructor(message: string, error: { code?: string | undefined; detail?: string | undefined; constraint?: string | undefined }) {
    super(message);
    this.code = error.code;
    this.detail = error.detail;
    this.constraint = error.constraint;
  }
}

/** PostgreSQL could not be reached, refused the login, or stopped answering. The message never contains the password. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

/**
 * True when a statement failed because a unique or primary-key constraint refused it, on either backend
 * (PostgreSQL SQLSTATE 23505; SQLite's extended codes SQLITE_CONSTRAINT_UNIQUE 2067 and _PRIMARYKEY 1555).
 *
 * @example
 * try {
 *   await db.run('INSERT INTO api_tokens (id, name, …) VALUES (?, ?, …)', id, name);
 * } catch (error) {
 *   if (isUniqueViolation(error)) throw new Error(`an API token named ${name} already exists`);
 *   throw error;
 * }
 */
export function isUniqueViolation(error: unknown): boolean {
  if (error instanceof PostgresError) return error.code === '23505';
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  return code === 'ERR_SQLITE_ERROR' && (errcode === 2067 || errcode === 1555);
}
