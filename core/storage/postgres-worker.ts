/**
 * The thread behind the synchronous PostgreSQL facade (postgres.ts): it owns the process's one connection,
 * runs each request the main thread sends, posts the reply, then wakes the main thread, which has been
 * blocked in Atomics.wait on the shared signal since it sent the request. One request is in flight at a time.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';

export type PostgresRequest =
  | { kind: 'connect' }
  /** `inTransaction`: the connection must not be replaced under an open transaction. */
  | { kind: 'query'; sql: string; params: unknown[]; inTransaction: boolean }
  | { kind: 'exec'; sql: string; inTransaction: boolean }
  | { kind: 'close' };

export interface SerialisedError {
  message: string;
  code?: string;
  detail?: string;
  constraint?: string;
}

export type PostgresReply = { ok: true; rows: Record<string, unknown>[]; rowCount: number } | { ok: false; error: SerialisedError };

export interface PostgresWorkerData {
  url: string;
  signal: SharedArrayBuffer;
  port: MessagePort;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

const { url, signal, port, connectTimeoutMs, statementTimeoutMs } = workerData as PostgresWorkerData;
const wake = new Int32Array(signal);

// BIGINT (int8) and NUMERIC come back as JS numbers, as SQLite returns them: every such column holds epoch
// milliseconds, versions, counts or sequence numbers, all far inside Number's exact range.
const toNumber = (text: string) => Number(text);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC ? toNumber : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

let client: pg.Client | null = null;

async function connect(): Promise<pg.Client> {
  const fresh = new pg.Client({
    connectionString: url,
    types,
    application_name: 'baton',
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // A network that stops answering fails the query instead of hanging the process.
    query_timeout: statementTimeoutMs + 5_000,
    keepAlive: true,
  });
  // A connection that breaks or is closed by the server (restart, terminated backend) is dropped; the next
  // request outside a transaction opens a new one.
  const drop = () => {
    if (client === fresh) client = null;
  };
  fresh.on('error', drop);
  fresh.on('end', drop);
  try {
    await fresh.connect();
  } catch (error) {
    fresh.end().catch(() => undefined);
    throw error;
  }
  return fresh;
}

async function connection(inTransaction: boolean): Promise<pg.Client> {
  if (client) return client;
  if (inTransaction) throw new Error('the connection to PostgreSQL was lost during a transaction; it was rolled back');
  client = await connect();
  return client;
}

function params(values: unknown[]): unknown[] {
  return values.map((value) => (typeof value === 'bigint' ? value.toString() : value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value) : value));
}

async function handle(request: PostgresRequest): Promise<PostgresReply> {
  switch (request.kind) {
    case 'connect':
      client ??= await connect();
      return { ok: true, rows: [], rowCount: 0 };
    case 'query': {
      const result = await (await connection(request.inTransaction)).query({ text: request.sql, values: params(request.params) });
      return { ok: true, rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
    }
    case 'exec':
      // The simple protocol: several statements in one string, no parameters.
      await (await connection(request.inTransaction)).query(request.sql);
      return { ok: true, rows: [], rowCount: 0 };
    case 'close': {
      const closing = client;
      client = null;
      await closing?.end();
      return { ok: true, rows: [], rowCount: 0 };
    }
  }
}

/** The server's SQLSTATE (e.g. 23505) or Node's socket error code (ECONNREFUSED) travels with the message. */
function serialise(error: unknown): SerialisedError {
  const { message, code, detail, constraint } = (error ?? {}) as { message?: string; code?: string; detail?: string; constraint?: string };
  return { message: message ?? String(error), code, detail, constraint };
}

port.on('message', async (request: PostgresRequest) => {
  let reply: PostgresReply;
  try {
    reply = await handle(request);
  } catch (error) {
    reply = { ok: false, error: serialise(error) };
  }
  port.postMessage(reply);
  Atomics.store(wake, 0, 1);
  Atomics.notify(wake, 0);
});
