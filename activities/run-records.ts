import type { AuditLog } from '../core/audit/audit-log.ts';
import { auditContextOf } from './audit-context.ts';
import { currentCaller } from './caller-context.ts';
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
