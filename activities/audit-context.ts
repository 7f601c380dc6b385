import type { AuditEventInput } from '../core/audit/audit-event.ts';
import { currentTraceId } from '../core/telemetry/trace-id.ts';
import type { Caller } from './caller-context.ts';

/**
 * The part of every audit record an activity writes that comes from the verified caller and the run. The
 * trace id is the active span's, unless the caller knows it otherwise (the run-record sink has no span).
 */
export function auditContextOf(caller: Caller, traceId: string | null = currentTraceId()): Pick<AuditEventInput, 'actor' | 'client' | 'server' | 'tool' | 'rootRunId' | 'runPath' | 'traceId'> {
  const { identity, binding, runPath } = caller;
  return {
    actor: { tenant: identity.tenant, subject: identity.subject, email: identity.email, name: identity.displayName, authMethod: identity.authMethod },
    client: identity.client,
    server: identity.server,
    tool: binding.tool,
    rootRunId: binding.rootWorkflowId,
    runPath,
    traceId,
  };
}
