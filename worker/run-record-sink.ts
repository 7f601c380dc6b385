/**
 * The worker's side of a root run's finished record: workflow code hands the record to this sink as the run
 * closes (workflows/sdk/dispatcher.ts), and the SDK awaits the sink before it reports the workflow task. So
 * the record is written before the client can see the result, without the local activity (and the two
 * extra activations) it used to cost; a worker that dies before reporting leaves the task to be run again.
 */
import { trace } from '@opentelemetry/api';
import { extractContextFromHeaders, TRACE_HEADER as INTERCEPTORS_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import { Runtime, type InjectedSinks } from '@temporalio/worker';
import { auditContextOf } from '../activities/audit-context.ts';
import type { BatonSinks, RunFinishedRecord } from '../activities/contract.ts';
import type { AuditLog } from '../core/audit/audit-log.ts';
import { TRACE_HEADER } from '../core/telemetry/trace-header.ts';

// Workflow code keeps the trace header by this name; it must stay the interceptors' own.
TRACE_HEADER satisfies typeof INTERCEPTORS_TRACE_HEADER;

/** Attempts before the failure is logged: the run's result matters more than its bookkeeping. */
const ATTEMPTS = 4;

export function runRecordSinks(audit: AuditLog): InjectedSinks<Pick<BatonSinks, 'runRecords'>> {
  return {
    runRecords: {
      finished: {
        // A replayed run wrote its record when it first ran.
        callDuringReplay: false,
        fn: async (info, record) => {
          const input = {
            ...auditContextOf(record.caller, traceIdOf(record)),
            kind: 'tool_call.finished' as const,
            outcome: record.event,
            durationMs: Date.now() - record.startedAt,
            message: record.message,
          };
          for (let attempt = 1; ; attempt += 1) {
            try {
              await audit.record(input);
              return;
            } catch (error) {
              if (attempt === ATTEMPTS) {
                Runtime.instance().logger.error('could not write the run record to the audit trail', { event: record.event, workflowId: info.workflowId, error: String(error) });
                return;
              }
              await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
            }
          }
        },
      },
    },
  };
}

function traceIdOf(record: RunFinishedRecord): string | null {
  if (!record.traceHeader) return null;
  const context = extractContextFromHeaders({ [TRACE_HEADER]: record.traceHeader });
  return (context && trace.getSpanContext(context)?.traceId) ?? null;
}
