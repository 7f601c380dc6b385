import { createCallApp } from './call-app.ts';
import { createCallMcpTool, type CallMcpToolDependencies } from './call-mcp-tool.ts';
import { currentCaller } from './caller-context.ts';
import { createConsentActivities } from './consent-records.ts';
import type { ConsentNotifier } from './consent-webhook.ts';
import { createRunRecordActivities, recordRunStart } from './run-records.ts';
import type { BatonActivities } from './contract.ts';
import type { ConsentStore } from '../core/consent/consent-store.ts';

export interface ActivityDependencies extends CallMcpToolDependencies {
  consents: ConsentStore;
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
    verifyRunIdentity: async ({ recordStart = false } = {}) => {
      const caller = currentCaller();
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
  };
}

export { identityInterceptor, currentIdentity } from './caller-context.ts';
export { consentWebhook } from './consent-webhook.ts';
export { createScheduledRunCheck } from './scheduled-runs.ts';
