import { ApplicationFailure } from '@temporalio/activity';
import type { AuditCredential } from '../core/audit/audit-event.ts';
import type { AuditLog } from '../core/audit/audit-log.ts';
import { auditContextOf } from './audit-context.ts';
import type { Caller } from './caller-context.ts';
import { FailureType } from './contract.ts';
import type { PresentedCredential } from './credentials.ts';

/* The audit record of one call to an app or an upstream MCP server, shared by callApp and callMcpTool. */

export interface AuditedCall {
  app: string;
  action: string;
  stepKey: string;
  mode: string;
  reason: string;
}

export type CallResult = { outcome: string; upstreamStatus?: number; objectRef?: string | null; error?: string };

/** One audit record per app call, written when the call ends (whatever the ending), with whose credential it used. */
export function startAudit(log: AuditLog, caller: Caller, call: AuditedCall) {
  const started = Date.now();
  let credential: AuditCredential = { mode: call.mode, owner: 'none', externalAccount: null, reason: call.reason };
  return {
    credential(presented: PresentedCredential) {
      credential = { ...credential, owner: presented.owner, externalAccount: presented.externalAccount };
    },
    async finish(result: CallResult): Promise<void> {
      await log.record({
        kind: 'app_call',
        outcome: result.outcome,
        ...auditContextOf(caller),
        app: call.app,
        action: call.action,
        credential,
        upstreamStatus: result.upstreamStatus ?? null,
        durationMs: Date.now() - started,
        objectRef: result.objectRef ?? null,
        message: result.error ?? null,
        detail: { stepKey: call.stepKey },
      });
    },
  };
}

/** Why this credential mode, in the configuration's own words: the answer to "why the service account?". */
export function configuredReason(tool: string, app: string, mode: string, byTool: boolean, stated: string | undefined): string {
  const where = byTool ? `tools.${tool}.credentials.${app}` : `apps.${app}.credential`;
  return stated ? `${stated} (${where}: ${mode})` : `${where}: ${mode}`;
}

export function describeCredential(caller: Caller, credential: PresentedCredential): string {
  if (credential.owner === 'none') return 'no credential';
  return credential.owner === 'user' ? `${caller.identity.subject} (${credential.externalAccount ?? 'own connection'})` : 'the service account';
}

export function isConnectionRequired(error: unknown): boolean {
  return error instanceof ApplicationFailure && error.type === FailureType.connectionRequired;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
