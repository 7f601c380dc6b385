import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ConsentRequest, ConsentStore } from '../../core/consent/consent-store.ts';
import { consentDecisionSignal } from '../../workflows/protocol.ts';

export interface ConnectionKey {
  tenant: string;
  subject: string;
  app: string;
}

/**
 * Tells every run of this user waiting on this app what the user decided: one consent resumes all of
 * them. The signal goes out before the request is closed, so a crash in between can only lead to a
 * repeated signal (harmless), never to a run left waiting.
 */
export async function resumeWaitingRuns(client: Client, consents: ConsentStore, key: ConnectionKey, decision: 'granted' | 'denied'): Promise<string[]> {
  const waiting = await consents.pendingFor(key.tenant, key.subject, key.app);
  const signalled = new Set<string>();
  for (const request of waiting) {
    if (!signalled.has(request.waitingWorkflowId)) {
      try {
        await client.workflow.getHandle(request.waitingWorkflowId).signal(consentDecisionSignal, { app: key.app, decision });
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error; // the run ended meanwhile (cancelled, timed out)
      }
      signalled.add(request.waitingWorkflowId);
    }
    await consents.resolve(request.id, decision);
  }
  return [...signalled];
}

/**
 * Gives one request's waiting run the 'granted' decision a connection made meanwhile already answers
 * (see ToolRunner: a request recorded after the connect flow signalled). Signal first, then close the
 * request, as above; resolves to whether this call closed it (false: someone else did first).
 */
export async function resumeStaleRequest(client: Client, consents: ConsentStore, request: ConsentRequest): Promise<boolean> {
  try {
    await client.workflow.getHandle(request.waitingWorkflowId).signal(consentDecisionSignal, { app: request.app, decision: 'granted' });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  return consents.resolve(request.id, 'granted');
}
