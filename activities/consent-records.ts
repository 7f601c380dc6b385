import type { AuditLog } from '../core/audit/audit-log.ts';
import type { ConsentStore } from '../core/consent/consent-store.ts';
import { auditContextOf } from './audit-context.ts';
import { currentCaller } from './caller-context.ts';
import type { ConsentNotifier } from './consent-webhook.ts';
import { ANSWERED_BY_A_NEW_CONNECTION, type BatonActivities } from './contract.ts';

export interface ConsentNotifications {
  /** Baton's public URL, for the consent link. */
  publicUrl: string;
  /** Told when a scheduled run (which nobody is waiting for) pauses for consent; absent when not configured. */
  notify?: ConsentNotifier;
  /** Whether the user's connection to the app is active now with these scopes (the vault's view). */
  isConnected?: (tenant: string, subject: string, app: string, scopes: readonly string[]) => Promise<boolean>;
}

/** Bookkeeping for paused steps; the user and tenant come from the verified identity, never from input. */
export function createConsentActivities(
  consents: ConsentStore,
  audit: AuditLog,
  notifications: ConsentNotifications = { publicUrl: '' },
): Pick<BatonActivities, 'recordConsentRequest' | 'settleConsentRequest'> {
  return {
    async recordConsentRequest(request) {
      const caller = currentCaller();
      const { tenant, subject } = caller.identity;
      // A retried activity must not ask twice: only the first recording (the one whose insert landed) is audited (and notified).
      const recorded = await consents.record({
        id: request.consentId,
        tenant,
        subject,
        app: request.app,
        scopes: request.scopes,
        reason: request.reason,
        rootWorkflowId: request.rootWorkflowId,
        waitingWorkflowId: request.waitingWorkflowId,
      });
      // The user may have connected the app after the call failed and before this request existed: the
      // connect flow then signalled every request but this one. Settled as granted here instead of waiting.
      if (ANSWERED_BY_A_NEW_CONNECTION.has(request.reason) && (await notifications.isConnected?.(tenant, subject, request.app, request.scopes))) {
        if (await consents.resolve(request.consentId, 'granted')) {
          await audit.record({
            ...auditContextOf(caller),
            kind: 'consent.granted',
            outcome: 'granted',
            app: request.app,
            message: `${request.app} was connected while the run was asking`,
            detail: { consentId: request.consentId },
          });
        }
        return { connectedMeanwhile: true };
      }
      if (!recorded) return { connectedMeanwhile: false };
      await audit.record({
        ...auditContextOf(caller),
        kind: 'consent.requested',
        outcome: 'pending',
        app: request.app,
        message: `needs ${request.app} (${request.reason})`,
        detail: { consentId: request.consentId },
      });
      const scheduleId = caller.binding.schedule;
      if (scheduleId !== undefined && notifications.notify) {
        await notifications.notify({
          event: 'consent.required',
          user: subject,
          tenant,
          tool: caller.binding.tool,
          runId: request.rootWorkflowId,
          app: request.app,
          connectUrl: `${notifications.publicUrl}/connect/${encodeURIComponent(request.consentId)}`,
          scheduleId,
        });
      }
      return { connectedMeanwhile: false };
    },
    async settleConsentRequest({ consentId, outcome }) {
      const caller = currentCaller();
      const request = await consents.get(consentId);
      if (request && (await consents.resolve(consentId, outcome))) {
        await audit.record({ ...auditContextOf(caller), kind: `consent.${outcome}`, outcome, app: request.app, durationMs: Date.now() - request.createdAt, detail: { consentId } });
      }
    },
  };
}
