import type { BatonSettings } from './config/settings.ts';
import { describePostgresUrl, openPostgres } from './storage/postgres.ts';
import { openSqlite } from './storage/sqlite.ts';

/**
 * The few database operations Baton's stores need, synchronous on both backends: the embedded SQLite
 * database (the default) and PostgreSQL (`BATON_DATABASE_URL`). SQL written against it sticks to what
 * SQLite and PostgreSQL share, in SQLite's spelling: `?` placeholders, which the PostgreSQL driver rewrites
 * to `$n` (storage/dialect.ts). Tables are created by the versioned migrations in storage/migrations.ts,
 * applied when the database is opened, never by the stores.
 */
export interface SqlDatabase {
  run(sql: string, ...params: SqlValue[]): { changes: number };
  get<T>(sql: string, ...params: SqlValue[]): T | undefined;
  all<T>(sql: string, ...params: SqlValue[]): T[];
  /**
   * Runs `work` inside one write transaction, taken up front so concurrent processes serialise: SQLite's
   * `BEGIN IMMEDIATE`, PostgreSQL's database-wide advisory write lock. Called again from inside `work`, it
   * joins the open transaction.
   */
  transaction<T>(work: () => T): T;
  exec(sql: string): void;
  close(): void;
}

export type SqlValue = string | number | bigint | null | Uint8Array;

export { openSqlite } from './storage/sqlite.ts';
export { DatabaseUnavailableError, openPostgres, PostgresError } from './storage/postgres.ts';
export { SchemaTooNewError } from './storage/migrations.ts';

/**
 * Opens the configured database, the one way every Baton process (gateway, worker, CLI) opens it:
 * PostgreSQL when `BATON_DATABASE_URL` is set, else the SQLite file at `BATON_DB` (default
 * `$BATON_HOME/baton.db`). Migrations run before it returns.
 */
export function openDatabase(settings: Pick<BatonSettings, 'databasePath' | 'databaseUrl'>): SqlDatabase {
  return settings.databaseUrl ? openPostgres(settings.databaseUrl) : openSqlite(settings.databasePath);
}

/** The configured database for messages: the SQLite path, or the PostgreSQL URL without its password. */
export function describeDatabase(settings: Pick<BatonSettings, 'databasePath' | 'databaseUrl'>): string {
  return settings.databaseUrl ? describePostgresUrl(settings.databaseUrl) : settings.databasePath;
}
