import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlDatabase } from '../db.ts';
import { VaultBusyError } from './errors.ts';
import { connectionParams, WHERE_CONNECTION } from './connection-rows.ts';
import type { ConnectionId } from './connection-types.ts';

export interface LeaseTiming {
  now: () => number;
  /** How long a lease holder may take before others assume it died and take over. */
  leaseMs: number;
  pollMs: number;
}

/**
 * Runs `work` while holding the row's refresh lease, so across every process sharing the database only one
 * refreshes a given connection at a time. Returns without running `work` once the row's version moves past
 * `seenVersion` (someone else refreshed, reconnected or marked it): the caller re-reads instead.
 *
 * The lease is one conditional UPDATE rather than a transaction because the refresh awaits the network,
 * and a transaction held across that await would keep the row locked (on SQLite, the whole file) and a
 * pooled connection busy for as long as the app takes. The UPDATE is atomic on both backends, needing no
 * lock of Baton's own: SQLite runs one writer at a time; PostgreSQL makes a second, concurrent UPDATE of the
 * row wait for the first and then re-checks its WHERE against the row the first one committed, so it takes
 * nothing.
 */
export async function withRefreshLease(db: SqlDatabase, id: ConnectionId, seenVersion: number, timing: LeaseTiming, work: () => Promise<void>): Promise<void> {
  const owner = randomUUID();
  // A healthy holder finishes (or loses its lease) within leaseMs; waiting twice that means something is
  // badly stuck, and a retryable error beats hanging the caller.
  const giveUpAt = timing.now() + 2 * timing.leaseMs + timing.pollMs;
  for (;;) {
    const now = timing.now();
    const { changes } = await db.run(
      `UPDATE vault_connections SET refresh_lease_owner = ?, refresh_lease_until = ?
       WHERE ${WHERE_CONNECTION} AND version = ? AND (refresh_lease_until IS NULL OR refresh_lease_until < ?)`,
      owner,
      now + timing.leaseMs,
      ...connectionParams(id),
      seenVersion,
      now,
    );
    if (changes === 1) {
      try {
        await work();
      } finally {
        await releaseRefreshLease(db, id, owner);
      }
      return;
    }
    const current = await db.get<{ version: number }>(`SELECT version FROM vault_connections WHERE ${WHERE_CONNECTION}`, ...connectionParams(id));
    if (!current || Number(current.version) !== seenVersion) return;
    if (timing.now() > giveUpAt) {
      throw new VaultBusyError(`timed out waiting for another process to refresh the ${id.app} connection of ${id.subject}; try again`);
    }
    await sleep(timing.pollMs);
  }
}

/** Only the owner releases, so a holder whose lease expired cannot clear the lease a successor took. */
async function releaseRefreshLease(db: SqlDatabase, id: ConnectionId, owner: string): Promise<void> {
  await db.run(`UPDATE vault_connections SET refresh_lease_owner = NULL, refresh_lease_until = NULL WHERE ${WHERE_CONNECTION} AND refresh_lease_owner = ?`, ...connectionParams(id), owner);
}
