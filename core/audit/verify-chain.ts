import type { SqlDatabase } from '../db.ts';
import { chainHash, checkpointHash, GENESIS } from './audit-chain.ts';
import { fromRow, hashVersionOf, type AuditRow } from './audit-log.ts';
import { checkpointFromRow, type CheckpointRow } from './checkpoints.ts';

export interface ChainProblem {
  /** The record (its global sequence number) or checkpoint the problem is about. */
  seq: number;
  /** The chain it is in (`checkpoints` for the checkpoints' own chain). */
  chain: string;
  kind: 'edited' | 'deleted' | 'reordered' | 'broken_link' | 'truncated';
  message: string;
}

export interface ChainReport {
  records: number;
  chains: number;
  checkpoints: number;
  /** The newest checkpoint: keep it somewhere else (`--expect-head`) to detect later that checkpoints were cut off. */
  head: { seq: number; hash: string } | null;
  /** Records appended after the newest checkpoint (the next checkpoint covers them). */
  uncovered: number;
  problems: ChainProblem[];
}

/**
 * Walks every chain of the audit trail in position order and names every record that is not where its
 * chain says it should be: edited (its content, any field of it, no longer matches its hash), deleted (a
 * gap, or a link to a record that is gone), or reordered (it links to a record that now comes after it).
 * Then walks the checkpoints the same way and checks every chain still reaches the head each checkpoint
 * saw (a chain whose end was cut off is `truncated`). Reads rows as stored, so it works on a database no
 * Baton process has open.
 */
export async function verifyAuditChain(db: SqlDatabase, key: Uint8Array, expectedHead?: { seq: number; hash: string }): Promise<ChainReport> {
  const problems: ChainProblem[] = [];
  const chainIds = (await db.all<{ chain: string }>('SELECT DISTINCT chain FROM audit_events ORDER BY chain')).map((row) => row.chain);
  /** Chain id → position → hash, for the checkpoint pass. */
  const positions = new Map<string, Map<number, { seq: number; hash: string }>>();
  let records = 0;
  for (const chain of chainIds) {
    const rows = await db.all<AuditRow>('SELECT * FROM audit_events WHERE chain = ? ORDER BY chain_seq', chain);
    records += rows.length;
    problems.push(...verifyOneChain(chain, rows, key));
    positions.set(chain, new Map(rows.map((row) => [Number(row.chain_seq), { seq: Number(row.seq), hash: row.hash }])));
  }

  const checkpoints = (await db.all<CheckpointRow>('SELECT * FROM audit_checkpoints ORDER BY seq')).map(checkpointFromRow);
  const covered = new Map<string, number>();
  let previous: (typeof checkpoints)[number] | undefined;
  for (const checkpoint of checkpoints) {
    const expectedSeq = (previous?.seq ?? 0) + 1;
    const problem = (kind: ChainProblem['kind'], message: string) => problems.push({ seq: checkpoint.seq, chain: 'checkpoints', kind, message });
    if (checkpoint.seq !== expectedSeq) problem('deleted', `${describeRange(expectedSeq, checkpoint.seq - 1, 'checkpoint')} missing (deleted) before checkpoint #${checkpoint.seq}`);
    if (checkpointHash(key, checkpoint.prevHash, checkpoint) !== checkpoint.hash) problem('edited', `checkpoint #${checkpoint.seq} was edited: its content no longer matches its hash`);
    else if (checkpoint.prevHash !== (previous?.hash ?? GENESIS) && checkpoint.seq === expectedSeq) {
      problem('broken_link', `checkpoint #${checkpoint.seq} does not follow checkpoint #${previous?.seq ?? 0}`);
    }
    for (const [chain, head] of Object.entries(checkpoint.heads)) {
      covered.set(chain, Math.max(covered.get(chain) ?? 0, head.seq));
      const stored = positions.get(chain);
      const end = Math.max(0, ...(stored?.keys() ?? []));
      if (end < head.seq) {
        problem('truncated', `chain ${chain} was cut: checkpoint #${checkpoint.seq} saw it reach position ${head.seq}, it now ends at ${end} (its last ${head.seq - end} record(s) deleted)`);
      } else if (stored?.get(head.seq)?.hash !== head.hash && stored?.has(head.seq)) {
        const record = stored.get(head.seq)!;
        if (!problems.some((found) => found.seq === record.seq && found.chain === chain)) {
          problem('edited', `record #${record.seq} (chain ${chain}, position ${head.seq}) is not the record checkpoint #${checkpoint.seq} saw there (replaced)`);
        }
      }
    }
    previous = checkpoint;
  }
  const head = previous ? { seq: previous.seq, hash: previous.hash } : null;
  if (expectedHead && !checkpoints.some((checkpoint) => checkpoint.seq === expectedHead.seq && checkpoint.hash === expectedHead.hash)) {
    problems.push({
      seq: expectedHead.seq,
      chain: 'checkpoints',
      kind: 'truncated',
      message: `checkpoint #${expectedHead.seq} with the hash you saved is not in the log (the log was truncated or rewritten after it)`,
    });
  }
  let uncovered = 0;
  for (const [chain, stored] of positions) uncovered += [...stored.keys()].filter((position) => position > (covered.get(chain) ?? 0)).length;
  return { records, chains: chainIds.length, checkpoints: checkpoints.length, head, uncovered, problems };
}

/** One chain's records, in position order: edits, gaps, moved records, broken links. */
function verifyOneChain(chain: string, rows: AuditRow[], key: Uint8Array): ChainProblem[] {
  const problems: ChainProblem[] = [];
  const name = (row: AuditRow) => `record #${row.seq}`;
  const positionOfHash = new Map(rows.map((row) => [row.hash, row]));
  const reordered = new Set<string>();
  let previous: AuditRow | undefined;
  for (const row of rows) {
    const problem = (kind: ChainProblem['kind'], message: string) => problems.push({ seq: Number(row.seq), chain, kind, message });
    const position = Number(row.chain_seq);
    const expectedPosition = (previous ? Number(previous.chain_seq) : 0) + 1;
    if (position !== expectedPosition) {
      problem('deleted', `chain ${chain}: ${describeRange(expectedPosition, position - 1, 'position')} missing (deleted) before ${name(row)}`);
    }
    if (!matchesOwnHash(row, key)) problem('edited', `${name(row)} was edited: its content no longer matches its hash`);
    const expectedPrev = previous?.hash ?? GENESIS;
    if (row.prev_hash !== expectedPrev && position === expectedPosition) {
      const linkedTo = positionOfHash.get(row.prev_hash);
      if (linkedTo && Number(linkedTo.chain_seq) > position) {
        reordered.add(row.hash);
        problem('reordered', `${name(row)} is out of order: it was written after ${name(linkedTo)}`);
      } else if (previous && previous.prev_hash === row.hash) {
        reordered.add(row.hash);
        problem('reordered', `${name(row)} is out of order: it was written before ${name(previous)}`);
      } else if (linkedTo && reordered.has(linkedTo.hash)) {
        // It follows a record that moved: already reported there.
      } else if (!linkedTo && row.prev_hash !== GENESIS) {
        problem('deleted', `the record written just before ${name(row)} in chain ${chain} is gone (deleted or replaced)`);
      } else {
        problem('broken_link', `${name(row)} does not follow ${previous ? name(previous) : 'the start'} of chain ${chain}`);
      }
    }
    previous = row;
  }
  return problems;
}

function describeRange(from: number, to: number, what: string): string {
  return from === to ? `${what} #${from} is` : `${what}s #${from}–#${to} are`;
}

function matchesOwnHash(row: AuditRow, key: Uint8Array): boolean {
  try {
    const { seq: _seq, chainSeq: _chainSeq, prevHash: _prev, hash: _hash, ...content } = fromRow(row);
    return chainHash(key, row.prev_hash, content, hashVersionOf(row)) === row.hash;
  } catch {
    return false; // a column no longer parses: edited
  }
}
