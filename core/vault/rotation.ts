import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlDatabase, SqlValue } from '../db.ts';
import { seal, sealedKeyFingerprint, sealedPrefix, unseal } from './cipher.ts';
import { VaultBusyError, VaultCorruptError } from './errors.ts';
import { findVaultKey, keyringOf, type VaultKeys } from './key.ts';
import { countByKey, SEALED_COLUMNS, type SealedColumn, type SealedRow } from './sealed-columns.ts';

export interface UnreadableValue {
  /** Column label: "connections". */
  label: string;
  /** The row, as an operator would name it (nothing secret). */
  what: string;
  reason: string;
  /** The key it names when that key is not configured; undefined when the value itself is corrupt. */
  missingKey?: string;
  deleted: boolean;
}

export interface ColumnReport {
  label: string;
  /** Values moved to the current key by this run. */
  reencrypted: number;
  /** Values that were on the current key already when the run started. */
  alreadyCurrent: number;
  /** Values no configured key opens (or that are corrupt); they cannot be re-encrypted. */
  unreadable: UnreadableValue[];
}

export interface RotationReport {
  current: string;
  columns: ColumnReport[];
  /** After the run: how many values are still under each key other than the current one (fingerprint -> count). */
  remaining: Map<string, number>;
  passes: number;
}

export interface RotationOptions {
  /** Rows per transaction (default 100): small, so gateways and workers are never held up for long. */
  batchSize?: number;
  /** Pause between transactions (default 0 ms), to go gentler on a busy database. */
  pauseMs?: number;
  /**
   * Delete values sealed with these keys (fingerprints), which the operator declares lost: nothing can open
   * them any more (their users reconnect; a service credential must be set again). Named key by key, so a
   * previous key merely missing from the configuration never costs a single value.
   */
  deleteUnderLostKeys?: readonly string[];
  /** Delete values that are corrupt (malformed or failing authentication under a configured key). */
  deleteCorrupt?: boolean;
  /** Called after each batch's transaction; a promise it returns (renewing a lease, say) is awaited before the next batch. */
  onBatch?: (label: string, reencrypted: number) => void | Promise<void>;
}

const MAX_PASSES = 10;

/**
 * Re-encrypts every sealed value of the vault under the current key, in place and online: each batch is
 * its own short transaction and every write is conditional on the value it read (`AND <column> = <old>`),
 * so a value written meanwhile — a refresh storing new tokens, a reconnect — is never overwritten with
 * stale content. Neither `version` nor `updated_at` change: re-encryption is not a credential change, so
 * refresh waiters are not woken and a refresh in flight still stores its result (its write is conditional
 * on `version`). Values already on the current key are skipped, so running it again is cheap and safe.
 * Walks the columns again until a pass finds nothing left to move (values sealed meanwhile by a process
 * still on an old key).
 */
export async function reencryptVault(db: SqlDatabase, keys: VaultKeys, options: RotationOptions = {}): Promise<RotationReport> {
  const ring = keyringOf(keys);
  const current = ring.current.fingerprint;
  const batchSize = Math.max(1, options.batchSize ?? 100);
  const columns: ColumnReport[] = [];
  for (const spec of SEALED_COLUMNS) {
    columns.push({ label: spec.label, reencrypted: 0, alreadyCurrent: (await countByKey(db, spec)).get(current) ?? 0, unreadable: [] });
  }
  let passes = 0;
  for (;;) {
    passes += 1;
    let movedThisPass = 0;
    for (const [index, spec] of SEALED_COLUMNS.entries()) {
      const report = columns[index]!;
      // Only the last pass's list counts: a value unreadable in one pass is seen again in the next.
      report.unreadable = [];
      movedThisPass += await reencryptColumn(db, ring, spec, report, { ...options, batchSize });
    }
    if (movedThisPass === 0 || passes >= MAX_PASSES) break;
  }
  const remaining = new Map<string, number>();
  for (const spec of SEALED_COLUMNS) {
    for (const [fingerprint, count] of await countByKey(db, spec)) {
      if (fingerprint !== current) remaining.set(fingerprint, (remaining.get(fingerprint) ?? 0) + count);
    }
  }
  return { current, columns, remaining, passes };
}

async function reencryptColumn(db: SqlDatabase, keys: VaultKeys, spec: SealedColumn, report: ColumnReport, options: RotationOptions & { batchSize: number }): Promise<number> {
  const current = keyringOf(keys).current;
  const keyList = spec.keyColumns.join(', ');
  const matchRow = spec.keyColumns.map((column) => `${column} = ?`).join(' AND ');
  const columns = [...spec.keyColumns, ...spec.aadColumns, `${spec.column} AS sealed`].join(', ');
  let after: SqlValue[] | undefined;
  let moved = 0;
  for (;;) {
    const conditions = [`substr(${spec.column}, 1, 20) <> ?`];
    if (spec.where) conditions.push(spec.where);
    // Keyset pagination: values that cannot be moved are passed over instead of being selected again.
    if (after) conditions.push(`(${keyList}) > (${after.map(() => '?').join(', ')})`);
    const batch = await db.transaction(async (tx) => {
      const rows = await tx.all<SealedRow & { sealed: string }>(
        `SELECT ${columns} FROM ${spec.table} WHERE ${conditions.join(' AND ')} ORDER BY ${keyList} LIMIT ?`,
        sealedPrefix(current.fingerprint),
        ...(after ?? []),
        options.batchSize,
      );
      let movedInBatch = 0;
      for (const row of rows) {
        const rowKey = spec.keyColumns.map((column) => row[column] as SqlValue);
        const opened = openForRotation(keys, spec, row);
        if ('problem' in opened) {
          const doomed = opened.missingKey === undefined ? options.deleteCorrupt === true : (options.deleteUnderLostKeys ?? []).includes(opened.missingKey);
          const deleted = doomed && (await tx.run(`DELETE FROM ${spec.table} WHERE ${matchRow} AND ${spec.column} = ?`, ...rowKey, row.sealed)).changes === 1;
          report.unreadable.push({ label: spec.label, what: spec.describe(row), reason: opened.problem, ...(opened.missingKey ? { missingKey: opened.missingKey } : {}), deleted });
          continue;
        }
        const resealed = seal(current, opened.plaintext, spec.aad(row));
        // Conditional on the value we opened: if another process wrote the row after our SELECT (the SELECT
        // locks nothing on PostgreSQL), the newer value stands and the next pass looks at it again.
        const { changes } = await tx.run(`UPDATE ${spec.table} SET ${spec.column} = ? WHERE ${matchRow} AND ${spec.column} = ?`, resealed, ...rowKey, row.sealed);
        movedInBatch += changes;
      }
      return { rows, movedInBatch };
    });
    if (batch.rows.length === 0) return moved;
    moved += batch.movedInBatch;
    report.reencrypted += batch.movedInBatch;
    await options.onBatch?.(spec.label, report.reencrypted);
    const last = batch.rows.at(-1)!;
    after = spec.keyColumns.map((column) => last[column] as SqlValue);
    // Let other processes' writes (and this process's event loop) in between transactions.
    await sleep(options.pauseMs ?? 0);
  }
}

/** The value's plaintext (held only long enough to seal it again), or why it cannot be re-encrypted. */
function openForRotation(keys: VaultKeys, spec: SealedColumn, row: { sealed: string } & SealedRow): { plaintext: string } | { problem: string; missingKey?: string } {
  const fingerprint = sealedKeyFingerprint(row.sealed);
  if (!fingerprint) return { problem: 'not a sealed value (corrupt)' };
  if (!findVaultKey(keys, fingerprint)) return { problem: `sealed with vault key ${fingerprint}, which is not configured`, missingKey: fingerprint };
  try {
    return { plaintext: unseal(keys, row.sealed, spec.aad(row)) };
  } catch (error) {
    if (error instanceof VaultCorruptError) return { problem: 'fails authentication (corrupt or tampered with)' };
    throw error;
  }
}

const LOCK_NAME = 'rotation_lock';
const LOCK_LEASE_MS = 120_000;

/** The named lock (a PostgreSQL advisory lock; SQLite's BEGIN IMMEDIATE serialises anyway) that acquirers of the lease take. */
const LOCK_TRANSACTION = 'baton.vault-rotation';

/**
 * One key rotation at a time across every machine sharing the database: a lease in `vault_meta`, renewed
 * while the rotation runs and released at the end (a crashed rotation's lease lapses). Taking it reads the
 * lease and writes it in one transaction holding the `baton.vault-rotation` lock, so of two acquirers the
 * second reads what the first wrote; nothing else takes that lock.
 */
export class RotationLock {
  readonly #db: SqlDatabase;
  readonly #owner = randomUUID();
  readonly #now: () => number;

  constructor(db: SqlDatabase, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  /** Rejects with VaultBusyError naming the holder when another rotation holds the lease. */
  acquire(): Promise<void> {
    return this.#db.transaction(
      async (tx) => {
        const row = await tx.get<{ value: string }>('SELECT value FROM vault_meta WHERE name = ?', LOCK_NAME);
        const held = row ? parseLock(row.value) : undefined;
        if (held && held.owner !== this.#owner && held.until > this.#now()) {
          throw new VaultBusyError(`another key rotation is running (${held.by}, until ${new Date(held.until).toISOString()} unless it renews); wait for it to finish`);
        }
        const value = JSON.stringify({ owner: this.#owner, by: `pid ${process.pid} on ${hostname()}`, until: this.#now() + LOCK_LEASE_MS });
        await tx.run(
          'INSERT INTO vault_meta (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at',
          LOCK_NAME,
          value,
          this.#now(),
        );
      },
      { lock: LOCK_TRANSACTION },
    );
  }

  renew(): Promise<void> {
    return this.acquire();
  }

  /** Deletes the lease if it is still this lock's: the DELETE is conditional on the exact value read, so a successor's lease stays. */
  async release(): Promise<void> {
    const row = await this.#db.get<{ value: string }>('SELECT value FROM vault_meta WHERE name = ?', LOCK_NAME);
    if (row && parseLock(row.value)?.owner === this.#owner) await this.#db.run('DELETE FROM vault_meta WHERE name = ? AND value = ?', LOCK_NAME, row.value);
  }
}

function parseLock(value: string): { owner: string; by: string; until: number } | undefined {
  try {
    const parsed = JSON.parse(value) as { owner?: unknown; by?: unknown; until?: unknown };
    return typeof parsed.owner === 'string' && typeof parsed.until === 'number' ? { owner: parsed.owner, by: typeof parsed.by === 'string' ? parsed.by : 'unknown', until: parsed.until } : undefined;
  } catch {
    return undefined;
  }
}
