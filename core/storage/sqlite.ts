import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqlDatabase, SqlValue } from '../db.ts';
import { migrate } from './migrations.ts';

/**
 * Opens (creating if needed) the embedded SQLite database and brings its schema up to date. WAL mode lets
 * the gateway and any number of worker processes on one machine share the file; the busy timeout makes a
 * writer wait for another process's transaction instead of failing at once.
 */
export function openSqlite(path: string): SqlDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  // The busy timeout first: switching a new file to WAL needs a lock that another process opening the same
  // new file at the same moment may hold for a moment.
  db.exec('PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;');
  // A store called from inside another store's transaction (an audit record written as part of a change)
  // joins the open transaction instead of failing to begin a second one.
  let depth = 0;
  const database: SqlDatabase = {
    run: (sql, ...params) => {
      const result = db.prepare(sql).run(...(params as SQLInputValue[]));
      return { changes: Number(result.changes) };
    },
    get: <T>(sql: string, ...params: SqlValue[]) => db.prepare(sql).get(...(params as SQLInputValue[])) as T | undefined,
    all: <T>(sql: string, ...params: SqlValue[]) => db.prepare(sql).all(...(params as SQLInputValue[])) as T[],
    transaction: <T>(work: () => T): T => {
      if (depth > 0) return work();
      // IMMEDIATE takes the write lock up front: concurrent writers (in any process) serialise.
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
  try {
    migrate(database);
  } catch (error) {
    db.close();
    throw error;
  }
  return database;
}
