import pg from 'pg';
import type { SqlDatabase, SqlExecutor, SqlValue, TransactionOptions } from '../db.ts';
import { toPostgresSql } from './dialect.ts';
import { DatabaseUnavailableError, PostgresError } from './errors.ts';
import { migrate, type Migration } from './migrations.ts';

export { DatabaseUnavailableError, isUniqueViolation, PostgresError } from './errors.ts';

export interface PostgresOptions {
  /** Connections in the pool (default 10: enough to keep a 2-core process busy while queries wait on the network). */
  poolSize?: number;
  /** How long to wait for the server to accept a new connection, or for a free one from the pool (default 10 s). */
  connectTimeoutMs?: number;
  /** A statement (lock waits included) running longer than this is cancelled by the server (default 30 s). */
  statementTimeoutMs?: number;
  /** The migrations to bring the schema to (default: all of them; tests open older schemas). */
  migrations?: readonly Migration[];
}

export const DEFAULT_POOL_SIZE = 10;

// BIGINT (int8) and NUMERIC come back as JS numbers, as SQLite returns them: every such column holds epoch
// milliseconds, versions, counts or sequence numbers, all far inside Number's exact range.
const toNumber = (text: string) => Number(text);
const numericTypes = new Set<number>([pg.types.builtins.INT8, pg.types.builtins.NUMERIC]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (numericTypes.has(oid) ? toNumber : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

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
 * Opens a PostgreSQL database over a connection pool (`pg.Pool`) and brings its schema up to date. Every
 * statement is asynchronous: while one waits for the server the process goes on answering requests and
 * heartbeating activities. A statement outside a transaction takes any free connection; a transaction holds
 * one connection from BEGIN to COMMIT. No lock is taken but those the statements take themselves (row locks,
 * and the named locks of `transaction(…, { lock })`).
 *
 * Rejects with DatabaseUnavailableError, naming the server but never the password, when the server cannot
 * be reached, refuses the login, or has no such database.
 */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<SqlDatabase> {
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
  const pool = new pg.Pool({
    connectionString: url,
    types,
    application_name: 'baton',
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // A network that stops answering fails the query instead of hanging the caller.
    query_timeout: statementTimeoutMs + 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // An idle connection the server closes (restart, terminated backend) is dropped by the pool; without a
  // listener its error would crash the process.
  pool.on('error', () => undefined);

  const translate = (error: unknown): Error => {
    const { message, code, detail, constraint } = (error ?? {}) as { message?: string; code?: string; detail?: string; constraint?: string };
    const text = redact(message ?? String(error));
    const sqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
    // Not an answer from the server (a socket error, no free connection in time, a query timeout), or the
    // server saying it is going away (SQLSTATE classes 08 and 57P): the database is unavailable.
    if (!sqlState || /^(08|57P0[1-3])/.test(code)) return new DatabaseUnavailableError(`PostgreSQL at ${where} did not answer: ${text}`);
    return new PostgresError(text, { code, detail, constraint });
  };
  const on = (client: pg.Pool | pg.PoolClient): SqlExecutor => {
    const query = async (sql: string, params: SqlValue[]) => {
      try {
        return await client.query({ text: toPostgresSql(sql), values: params.map(toParam) });
      } catch (error) {
        throw translate(error);
      }
    };
    return {
      run: async (sql, ...params) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
      get: async <T>(sql: string, ...params: SqlValue[]) => (await query(sql, params)).rows[0] as T | undefined,
      all: async <T>(sql: string, ...params: SqlValue[]) => (await query(sql, params)).rows as T[],
    };
  };
  const simple = async (client: pg.Pool | pg.PoolClient, sql: string) => {
    try {
      await client.query(sql);
    } catch (error) {
      throw translate(error);
    }
  };

  let closed = false;
  const database: SqlDatabase = {
    dialect: 'postgres',
    ...on(pool),
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, transactionOptions: TransactionOptions = {}): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translate(error);
      }
      let broken = false;
      // The pool listens for errors on idle connections only: one dropped mid-transaction (server restart,
      // terminated backend) would otherwise be an unhandled 'error' event. The next statement fails instead.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await simple(client, 'BEGIN');
        if (transactionOptions.lock) {
          await client.query({ text: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', values: [transactionOptions.lock] }).catch((error: unknown) => {
            throw translate(error);
          });
        }
        const value = await work(on(client));
        await simple(client, 'COMMIT');
        return value;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // The connection is gone: the server rolled the transaction back itself. Not returned to the pool.
          broken = true;
        }
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    exec: (sql) => simple(pool, toPostgresSql(sql)),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };

  try {
    // One round trip first, so an unreachable server or a refused login is reported as such.
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    const { message, code } = (error ?? {}) as { message?: string; code?: string };
    throw new DatabaseUnavailableError(`Cannot connect to PostgreSQL at ${where}: ${redact(describeConnectError(message ?? String(error), code))}`);
  }
  try {
    await migrate(database, options.migrations);
  } catch (error) {
    await database.close();
    if (error instanceof PostgresError && error.code === '42501') {
      throw new DatabaseUnavailableError(`Cannot create Baton's tables in PostgreSQL at ${where}: ${error.message} (the user needs to own the database, or the CREATE privilege on its schema)`);
    }
    throw error;
  }
  return database;
}

function toParam(value: SqlValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value);
  return value;
}

function describeConnectError(message: string, code: string | undefined): string {
  switch (code) {
    case '28P01':
    case '28000':
      return `${message} (check the user name and password in BATON_DATABASE_URL)`;
    case '3D000':
      return `${message} (create it, e.g. createdb, or name an existing one in BATON_DATABASE_URL)`;
    case 'ECONNREFUSED':
      return `${message} (is the server running and listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${message} (the host name does not resolve)`;
    default:
      return message;
  }
}
