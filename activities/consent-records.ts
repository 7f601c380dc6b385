import type { ConsentStore } from '../core/consent/consent-store.ts';
import { currentCaller } from './caller-context.ts';
import type { BatonActivities } from './contract.ts';

/** Bookkeeping for paused steps; the user and tenant come from the verified identity, never from input. */
export function createConsentActivities(consents: ConsentStore): Pick<BatonActivities, 'recordConsentRequest' | 'settleConsentRequest'> {
  return {
    async recordConsentRequest(request) {
      const { tenant, subject } = currentCaller().identity;
      consents.record({ id: request.consentId, tenant, subject, app: request.app, scopes: request.scopes, reason: request.reason, rootWorkflowId: request.rootWorkflowId, waitingWorkflowId: request.waitingWorkflowId });
    },
    async settleConsentRequest({ consentId, outcome }) {
      consents.resolve(consentId, outcome);
    },
  };
}
