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
  const byRun = new Map<string, typeof waiting>();
  for (const request of waiting) byRun.set(request.waitingWorkflowId, [...(byRun.get(request.waitingWorkflowId) ?? []), request]);
  // Many runs may wait on one consent (a user's 500 paused runs): signalled several at a time, not one after another.
  await inParallel([...byRun], SIGNALS_IN_FLIGHT, async ([workflowId, requests]) => {
    try {
      await client.workflow.getHandle(workflowId).signal(consentDecisionSignal, { app: key.app, decision, consentIds: requests.map((request) => request.id) });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error; // the run ended meanwhile (cancelled, timed out)
    }
    for (const request of requests) await consents.resolve(request.id, decision);
  });
  return [...byRun.keys()];
}

/** How many runs one consent signals at once. */
const SIGNALS_IN_FLIGHT = 16;

/** Runs `work` on every item, at most `limit` at a time; rejects with the first failure once all have settled. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item).catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failures.length > 0) throw failures[0];
}

/**
 * Gives one request's waiting run a decision on it alone: `granted` when a connection made meanwhile already
 * answers it (see ToolRunner: a request recorded after the connect flow signalled), `denied` when the user
 * declined this run's link in their MCP client (tasks/update). Signal first, then close the request, as above;
 * resolves to whether this call closed it (false: someone else did first).
 */
export async function decideRequest(client: Client, consents: ConsentStore, request: ConsentRequest, decision: 'granted' | 'denied'): Promise<boolean> {
  try {
    await client.workflow.getHandle(request.waitingWorkflowId).signal(consentDecisionSignal, { app: request.app, decision, consentIds: [request.id] });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  return consents.resolve(request.id, decision);
}
