import { createCallApp } from './call-app.ts';
import { createCallMcpTool, type CallMcpToolDependencies } from './call-mcp-tool.ts';
import { currentCaller } from './caller-context.ts';
import { createConsentActivities } from './consent-records.ts';
import type { ConsentNotifier } from './consent-webhook.ts';
import { createRunRecordActivities, recordRunStart } from './run-records.ts';
import type { BatonActivities } from './contract.ts';
import type { ConsentStore } from '../core/consent/consent-store.ts';
import { IdentityRejectedError } from '../core/identity/errors.ts';
import type { IdentityClaims } from '../core/identity/identity-claims.ts';
import type { WorkflowMessageVerifier } from '../core/identity/workflow-messages.ts';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from './contract.ts';
import type { Caller } from './caller-context.ts';

export interface ActivityDependencies extends CallMcpToolDependencies {
  consents: ConsentStore;
  /** Which execution first used each run identity (a later execution under the same id is refused). */
  identityClaims: IdentityClaims;
  /** Checks the gateway's signature on the signals a run receives. */
  verifyMessage: WorkflowMessageVerifier;
  /** Told when a scheduled run pauses for consent (BATON_CONSENT_WEBHOOK_URL); absent when not configured. */
  consentNotifier?: ConsentNotifier;
}

/** All activities the worker registers, wired to their stores. */
export function createActivities(deps: ActivityDependencies): BatonActivities {
  const callApp = createCallApp(deps);
  return {
    callApp,
    callMcpTool: createCallMcpTool(deps, callApp),
    // The identity interceptor has verified the caller before this runs; handing the identity back lets
    // workflow code read it. A root run's start record rides along: one local activity instead of two.
    verifyRunIdentity: async ({ recordStart = false, execution } = {}) => {
      const caller = currentCaller();
      if (execution) await checkRootExecution(caller, execution, deps.identityClaims);
      if (recordStart) await recordRunStart(deps.audit, caller);
      return { identity: caller.identity, binding: caller.binding };
    },
    ...createConsentActivities(deps.consents, deps.audit, {
      publicUrl: deps.settings.publicUrl,
      notify: deps.consentNotifier,
      isConnected: async (tenant, subject, app, scopes) => {
        const connection = await deps.vault.getConnectionInfo(tenant, subject, app);
        return connection?.status === 'active' && scopes.every((scope) => connection.scopes.includes(scope));
      },
    }),
    ...createRunRecordActivities(deps.audit),
    verifyWorkflowMessage: async ({ token, ...message }) => {
      try {
        return await deps.verifyMessage(token ?? undefined, message);
      } catch (error) {
        if (error instanceof IdentityRejectedError) throw ApplicationFailure.nonRetryable(error.message, FailureType.signalRejected);
        throw error;
      }
    },
  };
}

/**
 * A root run's identity acts only in a run of the tool it was signed for, and only in the first execution (and
 * its continue-as-new successors) under its workflow id: someone with Temporal access who copies it from a
 * closed run's history and starts another workflow type, or the same tool again under the reused id, is
 * refused before anything runs. Schedule identities have their own check (scheduled-runs.ts); a child's path
 * is only accepted from its real parent (workflows/interceptors.ts).
 */
async function checkRootExecution(caller: Caller, execution: { workflowType: string; firstRunId: string }, claims: IdentityClaims): Promise<void> {
  if (caller.runPath.length !== 1 || caller.binding.schedule !== undefined) return;
  try {
    if (execution.workflowType !== caller.binding.tool) {
      throw new IdentityRejectedError(`The identity was signed for a "${caller.binding.tool}" run but is used by a "${execution.workflowType}" run.`);
    }
    const first = await claims.claim(caller.binding.rootWorkflowId, execution.firstRunId);
    if (first !== execution.firstRunId) {
      throw new IdentityRejectedError(
        `The identity of run "${caller.binding.rootWorkflowId}" was already used by its execution ${first}; a signed identity acts in one execution only, not in a new one started under the same id.`,
      );
    }
  } catch (error) {
    if (error instanceof IdentityRejectedError) throw ApplicationFailure.nonRetryable(error.message, FailureType.identityRejected);
    throw error;
  }
}

export { identityInterceptor, currentIdentity } from './caller-context.ts';
export { consentWebhook } from './consent-webhook.ts';
export { createScheduledRunCheck } from './scheduled-runs.ts';
