import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The few database operations Baton's stores need. SQL written against it sticks to what SQLite and
 * PostgreSQL share (`?` placeholders are rewritten to `$n` by the PostgreSQL driver a later issue adds),
 * so each store stays portable.
 */
export interface SqlDatabase {
  run(sql: string, ...params: SqlValue[]): { changes: number };
  get<T>(sql: string, ...params: SqlValue[]): T | undefined;
  all<T>(sql: string, ...params: SqlValue[]): T[];
  /** Runs `work` inside one write transaction, taken up front so concurrent processes serialise. */
  transaction<T>(work: () => T): T;
  exec(sql: string): void;
  close(): void;
}

export type SqlValue = string | number | bigint | null | Uint8Array;

/**
 * Opens (creating if needed) the embedded SQLite database. WAL mode lets the gateway and any number of
 * worker processes on one machine share the file; the busy timeout makes a writer wait for another
 * process's transaction instead of failing at once.
 */
export function openSqlite(path: string): SqlDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;');
  // A store called from inside another store's transaction (an audit record written as part of a change)
  // joins the open transaction instead of failing to begin a second one.
  let depth = 0;
  return {
    run: (sql, ...params) => {
      const result = db.prepare(sql).run(...(params as SQLInputValue[]));
      return { changes: Number(result.changes) };
    },
    get: <T>(sql: string, ...params: SqlValue[]) => db.prepare(sql).get(...(params as SQLInputValue[])) as T | undefined,
    all: <T>(sql: string, ...params: SqlValue[]) => db.prepare(sql).all(...(params as SQLInputValue[])) as T[],
    transaction: <T>(work: () => T): T => {
      if (depth > 0) return work();
      db.exec('BEGIN IMMEDIATE');
      depth += 1;
      try {
        const result = work();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      } finally {
        depth -= 1;
      }
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
}
