import { log } from '@temporalio/activity';
import type { AuditLog } from '../core/audit/audit-log.ts';
import { auditContextOf } from './audit-context.ts';
import { currentCaller, type Caller } from './caller-context.ts';
import type { BatonActivities } from './contract.ts';

/** `tool_call.started` / `tool_call.finished` records, written by the root run itself whatever started it. */
export function createRunRecordActivities(audit: AuditLog): Pick<BatonActivities, 'recordRunEvent'> {
  return {
    async recordRunEvent({ event, startedAt, message }) {
      const context = auditContextOf(currentCaller());
      if (event === 'started') {
        await audit.record({ ...context, kind: 'tool_call.started', outcome: 'started' });
      } else {
        await audit.record({ ...context, kind: 'tool_call.finished', outcome: event, durationMs: Date.now() - startedAt, message });
      }
    },
  };
}

/**
 * The `tool_call.started` record, written as part of the run's identity check. A failure to write it is
 * logged, never the run's failure: the run's result matters more than its bookkeeping, and every app call
 * it makes is audited on its own.
 */
export async function recordRunStart(audit: AuditLog, caller: Caller): Promise<void> {
  try {
    await audit.record({ ...auditContextOf(caller), kind: 'tool_call.started', outcome: 'started' });
  } catch (error) {
    log.error('could not write the run record to the audit trail', { event: 'started', error: String(error) });
  }
}
