import { isUniqueViolation, type SqlDatabase } from '../db.ts';
import { checkpointHash, GENESIS, type ChainHead, type Checkpoint } from './audit-chain.ts';

export interface CheckpointRow {
  seq: number;
  at: number;
  heads: string;
  prev_hash: string;
  hash: string;
}

export function checkpointFromRow(row: CheckpointRow): Checkpoint {
  return { seq: Number(row.seq), at: Number(row.at), heads: JSON.parse(row.heads) as Record<string, ChainHead>, prevHash: row.prev_hash, hash: row.hash };
}

/**
 * Writes the next checkpoint: the head (last position and hash) of every chain that is open or was closed
 * since the previous checkpoint, linked to that checkpoint. Resolves to its number, or null when no chain
 * moved since the previous one, or when another process wrote checkpoint number n+1 first (its INSERT and
 * ours compete for the same primary key; one wins, nobody waits on a lock).
 */
export async function writeCheckpoint(db: SqlDatabase, key: Uint8Array, now: () => number = Date.now): Promise<number | null> {
  const lastRow = await db.get<CheckpointRow>('SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1');
  const last = lastRow ? checkpointFromRow(lastRow) : undefined;
  // A chain closed a little before the last checkpoint by a process whose clock runs behind is taken again.
  const closedSince = (last?.at ?? 0) - 60_000;
  const chains = await db.all<{ id: string }>('SELECT id FROM audit_chains WHERE closed_at IS NULL OR closed_at >= ? ORDER BY id', closedSince);
  const heads: Record<string, ChainHead> = {};
  for (const { id } of chains) {
    const head = await db.get<{ chain_seq: number; hash: string }>('SELECT chain_seq, hash FROM audit_events WHERE chain = ? ORDER BY chain_seq DESC LIMIT 1', id);
    if (head) heads[id] = { seq: Number(head.chain_seq), hash: head.hash };
  }
  const moved = Object.entries(heads).some(([id, head]) => last?.heads[id]?.seq !== head.seq || last.heads[id]?.hash !== head.hash);
  if (!moved) return null;
  const seq = (last?.seq ?? 0) + 1;
  const at = now();
  const prevHash = last?.hash ?? GENESIS;
  try {
    await db.run('INSERT INTO audit_checkpoints (seq, at, heads, prev_hash, hash) VALUES (?, ?, ?, ?, ?)', seq, at, JSON.stringify(heads), prevHash, checkpointHash(key, prevHash, { seq, at, heads }));
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
  return seq;
}
