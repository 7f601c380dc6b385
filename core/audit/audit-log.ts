import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isUniqueViolation, type SqlDatabase, type SqlValue } from '../db.ts';
import { chainHash, CURRENT_HASH_VERSION, GENESIS, type ChainHead, type HashVersion, type RecordContent } from './audit-chain.ts';
import type { AuditEventInput, AuditKind, AuditRecord } from './audit-event.ts';
import { writeCheckpoint } from './checkpoints.ts';

export interface AuditFilter {
  tenant?: string;
  subject?: string;
  app?: string;
  tool?: string;
  rootRunId?: string;
  kind?: AuditKind;
  outcome?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  until?: number;
  /** Only records older than this sequence number (paging backwards from the newest). */
  beforeSeq?: number;
  /** At most this many records, newest first. Default 100. */
  limit?: number;
}

export type AuditListener = (record: AuditRecord) => void;

export interface AuditLogOptions {
  now?: () => number;
  /** Write a checkpoint this often while records are being appended (none when unset; `close()` writes one). */
  checkpointEveryMs?: number;
  /** Called when a background checkpoint fails (the next one tries again). */
  onCheckpointError?: (error: unknown) => void;
}

const MAX_LIMIT = 10_000;
/** Records appended in one INSERT when callers outpace the database. */
const MAX_BATCH = 100;

interface Pending {
  content: RecordContent;
  resolve: (record: AuditRecord) => void;
  reject: (error: unknown) => void;
}

/**
 * The audit trail: one append-only table that every Baton process writes to, as parallel hash chains. Each
 * process appends to a chain of its own (opened at its first record), linking each record to the one before
 * it in that chain, so writers never wait for one another: an append is one INSERT, and records that arrive
 * while one is in flight go together in the next. Checkpoints (checkpoints.ts), written every
 * `checkpointEveryMs` by any process and when a process closes its log, record the head of every chain in a
 * chain of their own, which ties the chains together and lets `verify` see a chain's tail cut off.
 */
export class AuditLog {
  readonly #db: SqlDatabase;
  readonly #key: Uint8Array;
  readonly #listeners: AuditListener[] = [];
  readonly #now: () => number;
  readonly #options: AuditLogOptions;
  /** This process's chain: its id and the last record appended to it. */
  #chain: { id: string; head: ChainHead } | null = null;
  #pending: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #dirty = false;
  #closed = false;

  constructor(db: SqlDatabase, key: Uint8Array, options: AuditLogOptions = {}) {
    this.#db = db;
    this.#key = key;
    this.#now = options.now ?? Date.now;
    this.#options = options;
  }

  /** Called with every record this process appends (metrics count them). */
  onRecord(listener: AuditListener): void {
    this.#listeners.push(listener);
  }

  /** Appends one record to this process's chain; resolves once it is stored. */
  record(event: AuditEventInput): Promise<AuditRecord> {
    if (this.#closed) return Promise.reject(new Error('the audit log is closed'));
    const content: Omit<RecordContent, 'chain'> = {
      at: this.#now(),
      kind: event.kind,
      outcome: event.outcome,
      actor: { ...event.actor },
      client: event.client ?? null,
      server: event.server ?? null,
      tool: event.tool ?? null,
      rootRunId: event.rootRunId ?? null,
      runPath: event.runPath ?? [],
      app: event.app ?? null,
      action: event.action ?? null,
      credential: event.credential ?? null,
      upstreamStatus: event.upstreamStatus ?? null,
      durationMs: event.durationMs ?? null,
      objectRef: event.objectRef ?? null,
      message: event.message ?? null,
      traceId: event.traceId ?? null,
      detail: event.detail ?? {},
    };
    const stored = new Promise<AuditRecord>((resolve, reject) => this.#pending.push({ content: { ...content, chain: '' }, resolve, reject }));
    this.#startFlushing();
    return stored;
  }

  #startFlushing(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = null;
      // Records added after the loop saw the queue empty, before this ran.
      if (this.#pending.length > 0) this.#startFlushing();
    });
  }

  /**
   * Writes a checkpoint naming every open chain's head now (resolves to its number, or null when nothing
   * was written since the last one or another process wrote it at the same moment).
   */
  async checkpoint(): Promise<number | null> {
    while (this.#flushing) await this.#flushing;
    return writeCheckpoint(this.#db, this.#key, this.#now);
  }

  /** Stores what is pending, closes this process's chain and writes a checkpoint covering its end. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    while (this.#flushing) await this.#flushing;
    if (!this.#chain) return;
    await this.#db.run('UPDATE audit_chains SET closed_at = ? WHERE id = ?', this.#now(), this.#chain.id);
    await writeCheckpoint(this.#db, this.#key, this.#now);
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, MAX_BATCH);
      try {
        const records = await this.#append(batch.map((pending) => pending.content));
        batch.forEach((pending, index) => pending.resolve(records[index]!));
        for (const record of records) for (const listener of this.#listeners) listener(record);
      } catch (error) {
        batch.forEach((pending) => pending.reject(error));
      }
    }
  }

  async #append(contents: RecordContent[]): Promise<AuditRecord[]> {
    const chain = await this.#openChain();
    const link = (head: ChainHead) => {
      let previous = head;
      return contents.map((content) => {
        const record = { ...content, chain: chain.id };
        const appended = { ...record, seq: 0, chainSeq: previous.seq + 1, prevHash: previous.hash, hash: chainHash(this.#key, previous.hash, record) };
        previous = { seq: appended.chainSeq, hash: appended.hash };
        return appended;
      });
    };
    let records = link(chain.head);
    let seqs: number[];
    try {
      seqs = await this.#insert(records);
    } catch (error) {
      // Our view of the chain's end is behind (an earlier INSERT was stored although its answer was lost):
      // read the end back and link after it.
      if (!isUniqueViolation(error)) throw error;
      chain.head = await this.#readHead(chain.id);
      records = link(chain.head);
      seqs = await this.#insert(records);
    }
    records.forEach((record, index) => (record.seq = seqs[index]!));
    chain.head = { seq: records.at(-1)!.chainSeq, hash: records.at(-1)!.hash };
    this.#dirty = true;
    return records;
  }

  /** Inserts the records; resolves to the global sequence number each was given, in the same order. */
  async #insert(records: AuditRecord[]): Promise<number[]> {
    const placeholders = `(${Array.from({ length: COLUMNS.length }, () => '?').join(', ')})`;
    const rows = await this.#db.all<{ seq: number; chain_seq: number }>(
      `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${records.map(() => placeholders).join(', ')} RETURNING seq, chain_seq`,
      ...records.flatMap(toRow),
    );
    const seqAt = new Map(rows.map((row) => [Number(row.chain_seq), Number(row.seq)]));
    return records.map((record) => seqAt.get(record.chainSeq)!);
  }

  async #openChain(): Promise<{ id: string; head: ChainHead }> {
    if (this.#chain) return this.#chain;
    const id = randomBytes(12).toString('base64url');
    await this.#db.run('INSERT INTO audit_chains (id, writer, opened_at) VALUES (?, ?, ?)', id, `${hostname()} pid ${process.pid}`, this.#now());
    this.#chain = { id, head: { seq: 0, hash: GENESIS } };
    if (this.#options.checkpointEveryMs) {
      this.#timer = setInterval(() => {
        if (!this.#dirty) return;
        this.#dirty = false;
        this.checkpoint().catch((error: unknown) => {
          this.#dirty = true;
          this.#options.onCheckpointError?.(error);
        });
      }, this.#options.checkpointEveryMs);
      this.#timer.unref();
    }
    return this.#chain;
  }

  async #readHead(chain: string): Promise<ChainHead> {
    const row = await this.#db.get<{ chain_seq: number; hash: string }>('SELECT chain_seq, hash FROM audit_events WHERE chain = ? ORDER BY chain_seq DESC LIMIT 1', chain);
    return row ? { seq: Number(row.chain_seq), hash: row.hash } : { seq: 0, hash: GENESIS };
  }

  /** Matching records, newest first. */
  async query(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    const { where, params } = whereClause(filter);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), MAX_LIMIT);
    return (await this.#db.all<AuditRow>(`SELECT * FROM audit_events ${where} ORDER BY seq DESC LIMIT ${limit}`, ...params)).map(fromRow);
  }

  /** Every matching record, oldest first, read a page at a time (exports of any size). */
  async *stream(filter: Omit<AuditFilter, 'limit' | 'beforeSeq'> = {}, pageSize = 1000): AsyncGenerator<AuditRecord> {
    let after = 0;
    for (;;) {
      const { where, params } = whereClause(filter, after);
      const rows = await this.#db.all<AuditRow>(`SELECT * FROM audit_events ${where} ORDER BY seq LIMIT ${pageSize}`, ...params);
      for (const row of rows) yield fromRow(row);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** App calls of one run tree, oldest first. */
  async forRun(rootRunId: string): Promise<AuditRecord[]> {
    return (await this.#db.all<AuditRow>("SELECT * FROM audit_events WHERE root_run_id = ? AND kind = 'app_call' ORDER BY seq", rootRunId)).map(fromRow);
  }

  /**
   * "Who made that change?": the successful app calls that created or changed `object` at `app`. The
   * object is the reference as recorded (`issue:OPS-12`) or just its id (`OPS-12`); for a Slack message
   * the timestamp alone is enough.
   */
  async whoChanged(app: string, object: string): Promise<AuditRecord[]> {
    // The object is matched literally: a % or _ in it is not a wildcard.
    const literal = object.replace(/[\\%_]/g, (c) => `\\${c}`);
    const rows = await this.#db.all<AuditRow>(
      `SELECT * FROM audit_events WHERE kind = 'app_call' AND outcome = 'ok' AND app = ?
         AND (object_ref = ? OR object_ref LIKE '%:' || ? ESCAPE '\\' OR object_ref LIKE '%/' || ? ESCAPE '\\') ORDER BY seq`,
      app,
      object,
      literal,
      literal,
    );
    return rows.map(fromRow);
  }
}

function whereClause(filter: AuditFilter, afterSeq?: number): { where: string; params: SqlValue[] } {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  const add = (condition: string, value: SqlValue | undefined) => {
    if (value === undefined) return;
    conditions.push(condition);
    params.push(value);
  };
  add('tenant = ?', filter.tenant);
  add('subject = ?', filter.subject);
  add('app = ?', filter.app);
  add('tool = ?', filter.tool);
  add('root_run_id = ?', filter.rootRunId);
  add('kind = ?', filter.kind);
  add('outcome = ?', filter.outcome);
  add('at >= ?', filter.since);
  add('at <= ?', filter.until);
  add('seq < ?', filter.beforeSeq);
  add('seq > ?', afterSeq);
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

export interface AuditRow {
  seq: number;
  chain: string;
  chain_seq: number;
  hash_version: number;
  at: number;
  kind: string;
  outcome: string;
  tenant: string;
  subject: string;
  email: string | null;
  name: string | null;
  auth_method: string;
  client: string | null;
  server: string | null;
  tool: string | null;
  root_run_id: string | null;
  run_path: string;
  app: string | null;
  action: string | null;
  credential: string | null;
  upstream_status: number | null;
  duration_ms: number | null;
  object_ref: string | null;
  message: string | null;
  trace_id: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

/** The columns an append writes (seq is assigned by the database). */
const COLUMNS = [
  'chain',
  'chain_seq',
  'hash_version',
  'at',
  'kind',
  'outcome',
  'tenant',
  'subject',
  'email',
  'name',
  'auth_method',
  'client',
  'server',
  'tool',
  'root_run_id',
  'run_path',
  'app',
  'action',
  'credential',
  'upstream_status',
  'duration_ms',
  'object_ref',
  'message',
  'trace_id',
  'detail',
  'prev_hash',
  'hash',
] as const;

function toRow(record: AuditRecord): SqlValue[] {
  return [
    record.chain,
    record.chainSeq,
    CURRENT_HASH_VERSION,
    record.at,
    record.kind,
    record.outcome,
    record.actor.tenant,
    record.actor.subject,
    record.actor.email,
    record.actor.name,
    record.actor.authMethod,
    record.client,
    record.server,
    record.tool,
    record.rootRunId,
    JSON.stringify(record.runPath),
    record.app,
    record.action,
    record.credential && JSON.stringify(record.credential),
    record.upstreamStatus,
    record.durationMs,
    record.objectRef,
    record.message,
    record.traceId,
    JSON.stringify(record.detail),
    record.prevHash,
    record.hash,
  ];
}

export function fromRow(row: AuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    chain: row.chain,
    chainSeq: Number(row.chain_seq),
    at: row.at,
    kind: row.kind as AuditKind,
    outcome: row.outcome,
    actor: { tenant: row.tenant, subject: row.subject, email: row.email, name: row.name, authMethod: row.auth_method },
    client: row.client,
    server: row.server,
    tool: row.tool,
    rootRunId: row.root_run_id,
    runPath: JSON.parse(row.run_path) as string[],
    app: row.app,
    action: row.action,
    credential: row.credential === null ? null : (JSON.parse(row.credential) as AuditRecord['credential']),
    upstreamStatus: row.upstream_status,
    durationMs: row.duration_ms,
    objectRef: row.object_ref,
    message: row.message,
    traceId: row.trace_id,
    detail: JSON.parse(row.detail) as AuditRecord['detail'],
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The version of the link a stored row carries. */
export function hashVersionOf(row: AuditRow): HashVersion {
  return Number(row.hash_version) === 1 ? 1 : 2;
}
