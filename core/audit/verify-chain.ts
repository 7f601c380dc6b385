import type { SqlDatabase } from '../db.ts';
import { chainHash, GENESIS } from './audit-chain.ts';
import { fromRow, type AuditRow } from './audit-log.ts';

export interface ChainProblem {
  /** The record whose position in the chain is wrong (its sequence number). */
  seq: number;
  kind: 'edited' | 'deleted' | 'reordered' | 'broken_link';
  message: string;
}

export interface ChainReport {
  records: number;
  /** The newest record: keep its hash somewhere else to detect a truncated tail later. */
  head: { seq: number; hash: string } | null;
  problems: ChainProblem[];
}

/**
 * Walks the whole audit chain in sequence order and names every record that is not where the chain says it
 * should be: edited (its content no longer matches its hash), deleted (a gap, or a link to a record that is
 * gone), or reordered (it links to a record that now comes after it). Reads rows as stored, so it works on a
 * database no Baton process has open.
 */
export function verifyAuditChain(db: SqlDatabase, key: Uint8Array, expectedHead?: { seq: number; hash: string }): ChainReport {
  const problems: ChainProblem[] = [];
  const rows = db.all<AuditRow>('SELECT * FROM audit_events ORDER BY seq');
  const positionOfHash = new Map(rows.map((row) => [row.hash, row.seq]));
  const reordered = new Set<number>();
  let previous: AuditRow | undefined;
  for (const row of rows) {
    const expectedSeq = (previous?.seq ?? 0) + 1;
    if (row.seq !== expectedSeq) {
      const missing = expectedSeq === row.seq - 1 ? `#${expectedSeq} is` : `#${expectedSeq}–#${row.seq - 1} are`;
      problems.push({ seq: row.seq, kind: 'deleted', message: `record ${missing} missing (deleted) before record #${row.seq}` });
    }
    if (!matchesOwnHash(row, key)) {
      problems.push({ seq: row.seq, kind: 'edited', message: `record #${row.seq} was edited: its content no longer matches its hash` });
    }
    const expectedPrev = previous?.hash ?? GENESIS;
    if (row.prev_hash !== expectedPrev && row.seq === expectedSeq) {
      const linkedTo = positionOfHash.get(row.prev_hash);
      if (linkedTo !== undefined && linkedTo > row.seq) {
        reordered.add(row.seq);
        problems.push({ seq: row.seq, kind: 'reordered', message: `record #${row.seq} is out of order: it was written after record #${linkedTo}` });
      } else if (previous && previous.prev_hash === row.hash) {
        reordered.add(row.seq);
        problems.push({ seq: row.seq, kind: 'reordered', message: `record #${row.seq} is out of order: it was written before record #${previous.seq}` });
      } else if (linkedTo !== undefined && reordered.has(linkedTo)) {
        // It follows a record that moved: already reported there.
      } else if (linkedTo === undefined && row.prev_hash !== GENESIS) {
        problems.push({ seq: row.seq, kind: 'deleted', message: `the record written just before #${row.seq} is gone (deleted or replaced)` });
      } else {
        problems.push({ seq: row.seq, kind: 'broken_link', message: `record #${row.seq} does not follow record #${previous?.seq ?? 0} in the chain` });
      }
    }
    previous = row;
  }
  const head = previous ? { seq: previous.seq, hash: previous.hash } : null;
  if (expectedHead && !rows.some((row) => row.seq === expectedHead.seq && row.hash === expectedHead.hash)) {
    problems.push({
      seq: expectedHead.seq,
      kind: 'deleted',
      message: `record #${expectedHead.seq} with the hash you saved is not in the log (the log was truncated or rewritten after it)`,
    });
  }
  return { records: rows.length, head, problems };
}

function matchesOwnHash(row: AuditRow, key: Uint8Array): boolean {
  try {
    const { seq: _seq, prevHash: _prev, hash: _hash, ...content } = fromRow(row);
    return chainHash(key, row.prev_hash, content) === row.hash;
  } catch {
    return false; // a column no longer parses: edited
  }
}
