import type { SqlDatabase, SqlValue } from '../db.ts';
import { chainHash, GENESIS } from './audit-chain.ts';
import type { AuditEventInput, AuditKind, AuditRecord } from './audit-event.ts';

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

const MAX_LIMIT = 10_000;

/**
 * The audit trail: one append-only, hash-chained table every part of Baton writes to (gateway and
 * workers alike, through the shared database). Appending reads the last link and writes the next one in
 * one write transaction, so records from concurrent processes still form a single chain.
 */
export class AuditLog {
  readonly #db: SqlDatabase;
  readonly #key: Uint8Array;
  readonly #listeners: AuditListener[] = [];
  readonly #now: () => number;

  constructor(db: SqlDatabase, key: Uint8Array, now: () => number = Date.now) {
    this.#db = db;
    this.#key = key;
    this.#now = now;
  }

  /** Called with every record this process appends (metrics count them). */
  onRecord(listener: AuditListener): void {
    this.#listeners.push(listener);
  }

  record(event: AuditEventInput): AuditRecord {
    const content: Omit<AuditRecord, 'seq' | 'prevHash' | 'hash'> = {
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
    const record = this.#db.transaction(() => {
      const last = this.#db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
      const prevHash = last?.hash ?? GENESIS;
      const appended: AuditRecord = { ...content, seq: (last?.seq ?? 0) + 1, prevHash, hash: chainHash(this.#key, prevHash, content) };
      this.#db.run(
        `INSERT INTO audit_events (seq, at, kind, outcome, tenant, subject, email, name, auth_method, client, server, tool, root_run_id, run_path,
           app, action, credential, upstream_status, duration_ms, object_ref, message, trace_id, detail, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...toRow(appended),
      );
      return appended;
    });
    for (const listener of this.#listeners) listener(record);
    return record;
  }

  /** Matching records, newest first. */
  query(filter: AuditFilter = {}): AuditRecord[] {
    const { where, params } = whereClause(filter);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), MAX_LIMIT);
    return this.#db.all<AuditRow>(`SELECT * FROM audit_events ${where} ORDER BY seq DESC LIMIT ${limit}`, ...params).map(fromRow);
  }

  /** Every matching record, oldest first, read a page at a time (exports of any size). */
  *stream(filter: Omit<AuditFilter, 'limit' | 'beforeSeq'> = {}, pageSize = 1000): Generator<AuditRecord> {
    let after = 0;
    for (;;) {
      const { where, params } = whereClause(filter, after);
      const rows = this.#db.all<AuditRow>(`SELECT * FROM audit_events ${where} ORDER BY seq LIMIT ${pageSize}`, ...params);
      for (const row of rows) yield fromRow(row);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /** App calls of one run tree, oldest first. */
  forRun(rootRunId: string): AuditRecord[] {
    return this.#db.all<AuditRow>("SELECT * FROM audit_events WHERE root_run_id = ? AND kind = 'app_call' ORDER BY seq", rootRunId).map(fromRow);
  }

  /**
   * "Who made that change?": the successful app calls that created or changed `object` at `app`. The
   * object is the reference as recorded (`issue:OPS-12`) or just its id (`OPS-12`); for a Slack message
   * the timestamp alone is enough.
   */
  whoChanged(app: string, object: string): AuditRecord[] {
    // The object is matched literally: a % or _ in it is not a wildcard.
    const literal = object.replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.#db
      .all<AuditRow>(
        `SELECT * FROM audit_events WHERE kind = 'app_call' AND outcome = 'ok' AND app = ?
           AND (object_ref = ? OR object_ref LIKE '%:' || ? ESCAPE '\\' OR object_ref LIKE '%/' || ? ESCAPE '\\') ORDER BY seq`,
        app, object, literal, literal,
      )
      .map(fromRow);
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

function toRow(record: AuditRecord): SqlValue[] {
  return [
    record.seq, record.at, record.kind, record.outcome, record.actor.tenant, record.actor.subject, record.actor.email, record.actor.name,
    record.actor.authMethod, record.client, record.server, record.tool, record.rootRunId, JSON.stringify(record.runPath), record.app, record.action,
    record.credential && JSON.stringify(record.credential), record.upstreamStatus, record.durationMs, record.objectRef, record.message,
    record.traceId, JSON.stringify(record.detail), record.prevHash, record.hash,
  ];
}

export function fromRow(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
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
