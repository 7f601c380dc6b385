import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { SqlDatabase, SqlValue } from '../db.ts';
import { toPostgresSql } from './dialect.ts';
import { migrate } from './migrations.ts';
import type { PostgresReply, PostgresRequest, PostgresWorkerData, SerialisedError } from './postgres-worker.ts';

export interface PostgresOptions {
  /** How long to wait for the server to accept the connection (default 10 s). */
  connectTimeoutMs?: number;
  /** A statement (lock waits included) running longer than this is cancelled by the server (default 30 s). */
  statementTimeoutMs?: number;
}

/**
 * The key of the database-wide write lock (a transaction-level advisory lock): every `transaction()` takes
 * it first, so writers across all processes serialise exactly as SQLite's `BEGIN IMMEDIATE` makes them.
 * Stores rely on that: the audit chain reads its last link then appends the next, an OAuth `state` is read
 * then spent, an API token name is checked then taken. Taken before any row lock, it cannot deadlock.
 */
const WRITE_LOCK_KEY = 0x6261746f6e; // "baton"

/** A PostgreSQL error, with its SQLSTATE (`code`, e.g. 23505 for a unique violation) when the server sent one. */
export class PostgresError extends Error {
  override name = 'PostgresError';
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly constraint: string | undefined;
  constructor(message: string, error: Pick<SerialisedError, 'code' | 'detail' | 'constraint'>) {
    super(message);
    this.code = error.code;
    this.detail = error.detail;
    this.constraint = error.constraint;
  }
}

/** PostgreSQL could not be reached or refused the login. The message never contains the password. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

/**
 * Where a PostgreSQL URL points, for messages: `postgres://user@host:port/database`, never the password.
 * Throws (without echoing the URL) when it is not a postgres:// URL.
 */
export function describePostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError('the PostgreSQL URL is not a URL; write it as postgres://user:password@host:5432/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new TypeError(`the PostgreSQL URL must start with postgres:// (got ${parsed.protocol}//…); write it as postgres://user:password@host:5432/database`);
  }
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
  return `postgres://${user}${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
}

/**
 * Opens a PostgreSQL database behind the same synchronous `SqlDatabase` the stores use on SQLite, and
 * brings its schema up to date. The process's one connection lives in a worker thread (postgres-worker.ts);
 * each call posts the request and blocks on Atomics.wait until the thread has the answer, so a transaction's
 * statements run on that one connection, in order, with no other JavaScript of this thread in between.
 * The price: the event loop waits for each round trip (a fraction of a millisecond on a nearby server),
 * as it does for SQLite's disk.
 *
 * Throws DatabaseUnavailableError, naming the server but never the password, when the server cannot be
 * reached, refuses the login, or has no such database.
 */
export function openPostgres(url: string, options: PostgresOptions = {}): SqlDatabase {
  const where = describePostgresUrl(url);
  const password = (() => {
    try {
      return decodeURIComponent(new URL(url).password);
    } catch {
      return '';
    }
  })();
  // Neither the server nor the driver puts the password in an error; masking it anyway costs nothing. (A
  // password of a few characters would mask ordinary words of the message instead, and is left alone.)
  const redact = (text: string) => (password.length >= 8 ? text.split(password).join('***') : text);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;

  let channel: Channel | null = null;
  let closed = false;
  let depth = 0;

  const connectOrThrow = (): Channel => {
    const opened = openChannel({ url, connectTimeoutMs, statementTimeoutMs });
    // Loading the driver in a fresh thread takes a moment on a busy machine: allowed for on top of the connect timeout.
    const reply = opened.call({ kind: 'connect' }, connectTimeoutMs + 20_000);
    if (!reply.ok) {
      opened.terminate();
      throw new DatabaseUnavailableError(`Cannot connect to PostgreSQL at ${where}: ${redact(describeConnectError(reply.error))}`);
    }
    return opened;
  };

  const call = (request: PostgresRequest): { rows: Record<string, unknown>[]; rowCount: number } => {
    if (closed) throw new Error(`the PostgreSQL database ${where} is closed`);
    if (!channel) {
      if (depth > 0) throw new DatabaseUnavailableError(`the connection to PostgreSQL at ${where} was lost during a transaction; it was rolled back`);
      channel = connectOrThrow();
    }
    let reply: PostgresReply;
    try {
      reply = channel.call(request, statementTimeoutMs + 15_000);
    } catch (error) {
      // No answer at all: the thread is gone or stuck. A fresh one (and connection) serves the next call.
      channel.terminate();
      channel = null;
      throw new DatabaseUnavailableError(`PostgreSQL at ${where} did not answer: ${redact((error as Error).message)}`);
    }
    if (!reply.ok) throw new PostgresError(redact(reply.error.message), reply.error);
    return reply;
  };

  const query = (sql: string, params: SqlValue[]) => call({ kind: 'query', sql: toPostgresSql(sql), params, inTransaction: depth > 0 });
  const execNow = (sql: string) => void call({ kind: 'exec', sql, inTransaction: depth > 0 });
  const exec = (sql: string) => {
    const translated = toPostgresSql(sql);
    // Two processes running the same CREATE TABLE IF NOT EXISTS at once can collide in PostgreSQL's catalog
    // (a unique violation on pg_type): a store that still creates its own table does so under the write lock.
    if (depth === 0 && /\bCREATE\s+(UNIQUE\s+)?(TABLE|INDEX)\b/i.test(translated)) database.transaction(() => execNow(translated));
    else execNow(translated);
  };

  const database: SqlDatabase = {
    run: (sql, ...params) => ({ changes: query(sql, params).rowCount }),
    get: <T>(sql: string, ...params: SqlValue[]) => query(sql, params).rows[0] as T | undefined,
    all: <T>(sql: string, ...params: SqlValue[]) => query(sql, params).rows as T[],
    transaction: <T>(work: () => T): T => {
      // Joined, as on SQLite, by a store called from inside another store's transaction.
      if (depth > 0) return work();
      const rollback = () => {
        try {
          execNow('ROLLBACK');
        } catch {
          // The connection is gone: the server rolled the transaction back itself.
        }
      };
      try {
        // One round trip: the transaction and, first thing in it, the write lock. (Sent outside the
        // transaction, so a connection the server dropped since the last call is replaced first.)
        execNow(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`);
      } catch (error) {
        rollback();
        throw error;
      }
      depth += 1;
      try {
        const result = work();
        execNow('COMMIT');
        return result;
      } catch (error) {
        rollback();
        throw error;
      } finally {
        depth -= 1;
      }
    },
    exec,
    close: () => {
      if (closed) return;
      try {
        channel?.call({ kind: 'close' }, 5_000);
      } catch {
        // Closing anyway.
      }
      closed = true;
      channel?.terminate();
      channel = null;
    },
  };

  channel = connectOrThrow();
  try {
    migrate(database);
  } catch (error) {
    database.close();
    if (error instanceof PostgresError && error.code === '42501') {
      throw new DatabaseUnavailableError(
        `Cannot create Baton's tables in PostgreSQL at ${where}: ${error.message} (the user needs to own the database, or the CREATE privilege on its schema)`,
      );
    }
    throw error;
  }
  return database;
}

interface Channel {
  /** Sends one request and blocks until its reply; throws when none comes within `timeoutMs`. */
  call(request: PostgresRequest, timeoutMs: number): PostgresReply;
  terminate(): void;
}

function openChannel(options: Omit<PostgresWorkerData, 'signal' | 'port'>): Channel {
  const signal = new SharedArrayBuffer(4);
  const wake = new Int32Array(signal);
  const { port1, port2 } = new MessageChannel();
  const data: PostgresWorkerData = { ...options, signal, port: port2 };
  const worker = new Worker(new URL('./postgres-worker.ts', import.meta.url), { workerData: data, transferList: [port2 as MessagePort] });
  // The facade drives the thread synchronously: it must not keep the process alive by itself.
  worker.unref();
  port1.unref();
  let failure: Error | null = null;
  worker.on('error', (error) => (failure = error));
  worker.on('exit', (code) => (failure ??= new Error(`the database thread exited (code ${code})`)));
  return {
    call(request, timeoutMs) {
      if (failure) throw failure;
      Atomics.store(wake, 0, 0);
      port1.postMessage(request);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const waited = Atomics.wait(wake, 0, 0, Math.max(0, deadline - Date.now()));
        const received = receiveMessageOnPort(port1);
        if (received) return received.message as PostgresReply;
        if (waited === 'timed-out' || Date.now() >= deadline) throw new Error(`no reply within ${Math.round(timeoutMs / 1000)} s`);
      }
    },
    terminate() {
      port1.close();
      void worker.terminate();
    },
  };
}

function describeConnectError(error: SerialisedError): string {
  switch (error.code) {
    case '28P01':
    case '28000':
      return `${error.message} (check the user name and password in BATON_DATABASE_URL)`;
    case '3D000':
      return `${error.message} (create it, e.g. createdb, or name an existing one in BATON_DATABASE_URL)`;
    case 'ECONNREFUSED':
      return `${error.message} (is the server running and listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${error.message} (the host name does not resolve)`;
    default:
      return error.message;
  }
}
