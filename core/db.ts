import type { BatonSettings } from './config/settings.ts';
import { describePostgresUrl, openPostgres } from './storage/postgres.ts';
import { openSqlite } from './storage/sqlite.ts';

/**
 * The statements a store runs, each a Promise on both backends: the embedded SQLite database (the default)
 * and PostgreSQL over a connection pool (`BATON_DATABASE_URL`). SQL written against it sticks to what
 * SQLite and PostgreSQL share, in SQLite's spelling: `?` placeholders, which the PostgreSQL driver rewrites
 * to `$n` (storage/dialect.ts). `RETURNING`, `ON CONFLICT … DO UPDATE/NOTHING` and row values work on both.
 */
export interface SqlExecutor {
  run(sql: string, ...params: SqlValue[]): Promise<{ changes: number }>;
  get<T>(sql: string, ...params: SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, ...params: SqlValue[]): Promise<T[]>;
}

export interface TransactionOptions {
  /**
   * A named lock held until the transaction ends, for the rare read-then-write that no single statement can
   * express (migrations, the key-rotation lease): PostgreSQL's `pg_advisory_xact_lock` on the name's hash, so
   * only transactions naming the same lock wait for each other. Ordinary writes never take one: single-use
   * and uniqueness rules are single statements (`DELETE … RETURNING`, conditional `UPDATE`, `ON CONFLICT`).
   */
  lock?: string;
}

/**
 * A database Baton's stores share. Tables are created by the versioned migrations in storage/migrations.ts,
 * applied when the database is opened, never by the stores.
 */
export interface SqlDatabase extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `work` in one transaction on one connection, through `tx` (statements sent to the database itself
   * meanwhile run outside it, on another connection). Commits when `work` resolves, rolls back when it throws.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Several statements in one string, no parameters (schema changes, tests). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export type SqlValue = string | number | bigint | null | Uint8Array;

export { openSqlite } from './storage/sqlite.ts';
export { DatabaseUnavailableError, isUniqueViolation, openPostgres, PostgresError, type PostgresOptions } from './storage/postgres.ts';
export { SchemaTooNewError } from './storage/migrations.ts';

/**
 * Opens the configured database, the one way every Baton process (gateway, worker, CLI) opens it:
 * PostgreSQL when `BATON_DATABASE_URL` is set (a pool sized by `BATON_DATABASE_POOL_SIZE`), else the SQLite
 * file at `BATON_DB` (default `$BATON_HOME/baton.db`). Migrations run before it resolves.
 */
export function openDatabase(settings: Pick<BatonSettings, 'databasePath' | 'databaseUrl'> & Partial<Pick<BatonSettings, 'databasePool'>>): Promise<SqlDatabase> {
  return settings.databaseUrl ? openPostgres(settings.databaseUrl, settings.databasePool) : openSqlite(settings.databasePath);
}

/** The configured database for messages: the SQLite path, or the PostgreSQL URL without its password. */
export function describeDatabase(settings: Pick<BatonSettings, 'databasePath' | 'databaseUrl'>): string {
  return settings.databaseUrl ? describePostgresUrl(settings.databaseUrl) : settings.databasePath;
}
