import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqlDatabase, SqlExecutor, SqlValue } from '../db.ts';
import { migrate, type Migration } from './migrations.ts';

/**
 * Opens (creating if needed) the embedded SQLite database and brings its schema up to date (`migrations`:
 * all of them unless given). WAL mode lets
 * the gateway and any number of worker processes on one machine share the file; the busy timeout makes a
 * writer wait for another process's transaction instead of failing at once.
 *
 * `node:sqlite` is synchronous: each statement runs to completion on the calling thread (a local file,
 * tens of microseconds for Baton's statements), and the async interface resolves right after. The one thing
 * the promises change is that a transaction's `work` may await between its statements: while it does, this
 * connection belongs to the transaction, so statements from the rest of the process wait for it to end
 * rather than slip into it (and transactions queue behind each other in order).
 */
export async function openSqlite(path: string, options: { migrations?: readonly Migration[] } = {}): Promise<SqlDatabase> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  // The busy timeout first: switching a new file to WAL needs a lock that another process opening the same
  // new file at the same moment may hold for a moment.
  // NORMAL in WAL mode: a commit is durable once the WAL is synced at checkpoints, not at every commit; a power
  // cut can lose the last transactions but never corrupts the file (production durability is PostgreSQL's).
  db.exec('PRAGMA busy_timeout = 10000');
  await switchToWal(db);
  db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
  const statements = new Map<string, ReturnType<DatabaseSync['prepare']>>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      // Bounded: a few query shapes are built from filters; this keeps the cache from growing with them.
      if (statements.size >= 500) statements.clear();
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const direct: SqlExecutor = {
    run: async (sql, ...params) => ({ changes: Number(prepared(sql).run(...(params as SQLInputValue[])).changes) }),
    get: async <T>(sql: string, ...params: SqlValue[]) => prepared(sql).get(...(params as SQLInputValue[])) as T | undefined,
    all: async <T>(sql: string, ...params: SqlValue[]) => prepared(sql).all(...(params as SQLInputValue[])) as T[],
  };
  // Settles when the open transaction (if any) ends; transactions chain onto it, in order.
  let idle: Promise<void> = Promise.resolve();
  let inTransaction = false;
  const outside = async <T>(statement: () => Promise<T>): Promise<T> => {
    while (inTransaction) await idle;
    return statement();
  };
  let closed = false;
  const database: SqlDatabase = {
    dialect: 'sqlite',
    run: (sql, ...params) => outside(() => direct.run(sql, ...params)),
    get: <T>(sql: string, ...params: SqlValue[]) => outside(() => direct.get<T>(sql, ...params)),
    all: <T>(sql: string, ...params: SqlValue[]) => outside(() => direct.all<T>(sql, ...params)),
    transaction: <T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
      const result = idle.then(async () => {
        inTransaction = true;
        // IMMEDIATE takes the file's write lock up front: writers in other processes wait (busy timeout)
        // instead of failing when they later try to upgrade a read lock. SQLite has one writer at a time
        // whatever we do; Baton's transactions on it are a few statements long.
        db.exec('BEGIN IMMEDIATE');
        try {
          const value = await work(direct);
          db.exec('COMMIT');
          return value;
        } catch (error) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw error;
        } finally {
          inTransaction = false;
        }
      });
      idle = result.then(
        () => undefined,
        () => undefined,
      );
      return result;
    },
    exec: (sql) => outside(async () => db.exec(sql)),
    close: async () => {
      if (closed) return;
      closed = true;
      await idle;
      statements.clear();
      db.close();
    },
  };
  try {
    await migrate(database, options.migrations);
  } catch (error) {
    db.close();
    throw error;
  }
  return database;
}

/**
 * `PRAGMA journal_mode = WAL`, retried: when another process is switching the same new file at the same
 * moment SQLite answers SQLITE_BUSY at once (waiting could deadlock, so the busy timeout does not apply).
 */
async function switchToWal(db: DatabaseSync): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (error) {
      const busy = (error as { errcode?: number }).errcode === 5;
      if (!busy || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}
