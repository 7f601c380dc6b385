import type { AuditLog } from '../core/audit/audit-log.ts';
import type { ConsentStore } from '../core/consent/consent-store.ts';
import { auditContextOf } from './audit-context.ts';
import { currentCaller } from './caller-context.ts';
import type { BatonActivities } from './contract.ts';

/** Bookkeeping for paused steps; the user and tenant come from the verified identity, never from input. */
export function createConsentActivities(consents: ConsentStore, audit: AuditLog): Pick<BatonActivities, 'recordConsentRequest' | 'settleConsentRequest'> {
  return {
    async recordConsentRequest(request) {
      const caller = currentCaller();
      const { tenant, subject } = caller.identity;
      // A retried activity must not ask twice: only the first recording is audited.
      if (consents.get(request.consentId)) return;
      consents.record({ id: request.consentId, tenant, subject, app: request.app, scopes: request.scopes, reason: request.reason, rootWorkflowId: request.rootWorkflowId, waitingWorkflowId: request.waitingWorkflowId });
      audit.record({ ...auditContextOf(caller), kind: 'consent.requested', outcome: 'pending', app: request.app, message: `needs ${request.app} (${request.reason})`, detail: { consentId: request.consentId } });
    },
    async settleConsentRequest({ consentId, outcome }) {
      const caller = currentCaller();
      const request = consents.get(consentId);
      if (request && consents.resolve(consentId, outcome)) {
        audit.record({ ...auditContextOf(caller), kind: `consent.${outcome}`, outcome, app: request.app, durationMs: Date.now() - request.createdAt, detail: { consentId } });
      }
    },
  };
}
