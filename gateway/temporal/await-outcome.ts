import { WorkflowFailedError, type Client } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { awaitOutcomeUpdate, runStatusQuery, type RunStatus } from '../../workflows/protocol.ts';
import { actingAs } from './identity-propagation.ts';

export type RunOutcome = RunStatus | { state: 'still_running' };

/**
 * Waits, event-driven (the run's `baton.awaitOutcome` update), until the run completes, fails or
 * pauses on a consent not in `seenConsentIds` — or until `waitMs` passes, when the caller gets a
 * handle to come back with instead. A run that has already closed answers from its result. `stop`
 * (the gateway shutting down) ends the wait early the same way: the caller gets the handle.
 */
export async function awaitRunOutcome(
  client: Client,
  workflowId: string,
  signedIdentity: string,
  seenConsentIds: string[],
  waitMs: number,
  stop?: AbortSignal,
  /** An update already sent (with the start, say) to wait on instead of sending a new one. */
  sent?: () => Promise<RunStatus>,
): Promise<RunOutcome> {
  const handle = client.workflow.getHandle(workflowId);
  if (stop?.aborted) return { state: 'still_running' };
  const timeout = new AbortController();
  // Cancelled when the wait ends, so no long poll (and its retries while Temporal is away) outlives it,
  // nor the connection it runs on when the gateway shuts down.
  const update = client.connection.withAbortSignal(timeout.signal, () => actingAs(signedIdentity, () => (sent ? sent() : handle.executeUpdate(awaitOutcomeUpdate, { args: [{ seenConsentIds }] }))));
  const stopped = new Promise<{ state: 'still_running' }>((resolve) => {
    const onStop = () => resolve({ state: 'still_running' });
    stop?.addEventListener('abort', onStop, { once: true });
    timeout.signal.addEventListener('abort', () => stop?.removeEventListener('abort', onStop), { once: true });
  });
  try {
    return await Promise.race([update, sleep(waitMs, { state: 'still_running' } as const, { signal: timeout.signal }), stopped]);
  } catch (error) {
    return await closedRunOutcome(client, workflowId, error);
  } finally {
    timeout.abort();
    update.catch(() => undefined); // an update outliving the wait must not become an unhandled rejection
  }
}

/** The run's status now, by query (which, unlike an update, writes nothing to its history); a closed run answers from its result. */
export async function statusByQuery(client: Client, workflowId: string, signedIdentity: string): Promise<RunOutcome> {
  try {
    return await actingAs(signedIdentity, () => client.workflow.getHandle(workflowId).query(runStatusQuery));
  } catch (error) {
    return closedRunOutcome(client, workflowId, error);
  }
}

/** The update cannot reach a closed run: read its result instead (or rethrow if it is still open). */
export async function closedRunOutcome(client: Client, workflowId: string, updateError: unknown): Promise<RunStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const { status } = await handle.describe();
  if (status.name === 'RUNNING') throw updateError;
  try {
    return { state: 'completed', pending: [], result: await handle.result() };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const cause = innermostCause(error);
    return { state: 'failed', pending: [], error: { type: cause?.type ?? null, message: cause?.message ?? `The run ended: ${status.name.toLowerCase()}.` } };
  }
}

/** The failure that started it all (e.g. the app's answer), not the "activity task failed" wrappers around it. */
function innermostCause(error: Error): (Error & { type?: string }) | undefined {
  let cause = error.cause as (Error & { type?: string }) | undefined;
  while (cause?.cause instanceof Error) cause = cause.cause as Error & { type?: string };
  return cause;
}
