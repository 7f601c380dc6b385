import { createHmac } from 'node:crypto';
import { canonicalJson } from '../canonical-json.ts';
import type { AuditRecord } from './audit-event.ts';

/** The hash the first record of every chain (and the first checkpoint) links to. */
export const GENESIS = 'genesis';

/** How a record's hash was computed: 1 before parallel chains (part of the record), 2 since (all of it). */
export type HashVersion = 1 | 2;
export const CURRENT_HASH_VERSION: HashVersion = 2;

/** A record's content: everything but its place (global and in-chain sequence numbers) and its links. */
export type RecordContent = Omit<AuditRecord, 'seq' | 'chainSeq' | 'prevHash' | 'hash'>;

/**
 * The chain link of one record: HMAC-SHA256, keyed with the audit key, over the previous record's hash in
 * the same chain and the canonical JSON of the whole record (every column, every field of its JSON columns,
 * the chain it belongs to). Someone who can write the database but does not hold the key cannot edit,
 * add a field to, delete or reorder a record and leave a consistent chain. The record's position is left
 * out on purpose: a record moved elsewhere still matches its own hash, so `verify` can say it moved rather
 * than that it was edited.
 */
export function chainHash(key: Uint8Array, prevHash: string, record: RecordContent, version: HashVersion = CURRENT_HASH_VERSION): string {
  return createHmac('sha256', key)
    .update(prevHash)
    .update('\n')
    .update(version === 2 ? canonicalJson(record) : legacyContent(record))
    .digest('base64url');
}

/** Version 1 (records written before parallel chains): a fixed list of fields, the credential only in part. */
function legacyContent(record: RecordContent): string {
  return JSON.stringify([
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
    record.runPath,
    record.app,
    record.action,
    record.credential && [record.credential.mode, record.credential.owner, record.credential.externalAccount, record.credential.reason],
    record.upstreamStatus,
    record.durationMs,
    record.objectRef,
    record.message,
    record.traceId,
    record.detail,
  ]);
}

/** Where a chain stood when a checkpoint was written: its last record's position and hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export interface Checkpoint {
  seq: number;
  at: number;
  /** Chain id → its head, for every chain written to since the checkpoint before. */
  heads: Record<string, ChainHead>;
  prevHash: string;
  hash: string;
}

/** A checkpoint's link: HMAC-SHA256 over the previous checkpoint's hash and this one's number, time and heads. */
export function checkpointHash(key: Uint8Array, prevHash: string, checkpoint: Pick<Checkpoint, 'seq' | 'at' | 'heads'>): string {
  return createHmac('sha256', key)
    .update('checkpoint\n')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson({ seq: checkpoint.seq, at: checkpoint.at, heads: checkpoint.heads }))
    .digest('base64url');
}
