import { createHmac } from 'node:crypto';
import type { AuditRecord } from './audit-event.ts';

/** The hash the first record links to. */
export const GENESIS = 'genesis';

/**
 * The chain link of one record: HMAC-SHA256 over the previous record's hash and this record's content,
 * keyed with the audit key. Someone who can write the database but does not hold the key cannot forge a
 * consistent chain after editing, deleting or reordering a record. The sequence number is left out on
 * purpose: a record moved to another position still matches its own hash, so `verify` can say it moved
 * rather than that it was edited.
 */
export function chainHash(key: Uint8Array, prevHash: string, record: Omit<AuditRecord, 'seq' | 'prevHash' | 'hash'>): string {
  // A fixed field order: the same record always serialises to the same bytes.
  const content = JSON.stringify([
    record.at, record.kind, record.outcome,
    record.actor.tenant, record.actor.subject, record.actor.email, record.actor.name, record.actor.authMethod,
    record.client, record.server, record.tool, record.rootRunId, record.runPath, record.app, record.action,
    record.credential && [record.credential.mode, record.credential.owner, record.credential.externalAccount, record.credential.reason],
    record.upstreamStatus, record.durationMs, record.objectRef, record.message, record.traceId, record.detail,
  ]);
  return createHmac('sha256', key).update(prevHash).update('\n').update(content).digest('base64url');
}
