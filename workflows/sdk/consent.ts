import { ApplicationFailure, CancellationScope, condition, isCancellation, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import { FailureType, type ConnectionRequiredDetails } from '../../activities/contract.ts';
import { consentDecisionSignal, type ConsentDecision } from '../protocol.ts';
import { bookkeepingActivities } from './activities.ts';
import { currentIdentity } from './identity.ts';
import { announcePending, announceSettled, rootWorkflowId } from './root-status.ts';
import { runState } from './run-state.ts';

const DEFAULT_CONSENT_TIMEOUT_MS = 15 * 60 * 1000;

/**
 * Decisions naming the requests they answer, by request id. (A decision from before they named them — in an
 * older run's history — is kept as the latest per app, numbered, so a waiter only acts on one made after it began waiting.)
 */
const decidedRequests = new Map<string, ConsentDecision['decision']>();
const decisions = new Map<string, { serial: number; decision: ConsentDecision['decision'] }>();
let decisionSerial = 0;
/** Apps whose step was retried because they were connected before the run asked (see waitForConsent). */
const retriedWithoutAsking = new Set<string>();

export function acceptConsentDecisions(): void {
  setHandler(consentDecisionSignal, ({ app, decision, consentIds }) => {
    if (consentIds) return void consentIds.forEach((id) => decidedRequests.set(id, decision));
    decisionSerial += 1;
    decisions.set(app, { serial: decisionSerial, decision });
  });
}

/**
 * Pauses this workflow until the user connects `needed.app` (durably: a timer and a signal in
 * Temporal, so worker restarts do not matter). Returns when the user approved; throws a clear
 * non-retryable failure when they declined or the wait timed out.
 */
export async function waitForConsent(needed: ConnectionRequiredDetails): Promise<void> {
  // Taken before the request exists anywhere, so a decision that races the bookkeeping still counts.
  const waitingSince = decisionSerial;
  const consentId = uuid4();
  const waitingWorkflowId = workflowInfo().workflowId;
  const recorded = await bookkeepingActivities.recordConsentRequest({
    consentId,
    app: needed.app,
    scopes: needed.scopes,
    reason: needed.reason,
    rootWorkflowId: rootWorkflowId(),
    waitingWorkflowId,
  });
  // Connected between the failed call and the request: retry at once — but only once per app, so a connection
  // the vault calls active that the app still refuses pauses for consent the next time instead of looping.
  // (Histories from before this answer existed carry no result: they wait, as they did.)
  if (recorded?.connectedMeanwhile && !retriedWithoutAsking.has(needed.app)) {
    retriedWithoutAsking.add(needed.app);
    return;
  }
  await announcePending({ consentId, app: needed.app, appName: needed.appName, scopes: needed.scopes, reason: needed.reason, message: needed.message, waitingWorkflowId });

  const timeoutMs = runState.options.consentTimeoutMs ?? DEFAULT_CONSENT_TIMEOUT_MS;
  let decided: boolean;
  try {
    decided = await condition(() => decisionFor(needed.app, consentId, waitingSince) !== undefined, timeoutMs);
  } catch (error) {
    if (isCancellation(error)) await CancellationScope.nonCancellable(() => closeRequest(consentId, 'cancelled'));
    throw error;
  }
  await announceSettled(consentId);

  const caller = currentIdentity();
  const who = caller.displayName ?? caller.subject;
  if (!decided) {
    await bookkeepingActivities.settleConsentRequest({ consentId, outcome: 'expired' });
    throw ApplicationFailure.nonRetryable(
      `Timed out after ${describeDuration(timeoutMs)} waiting for ${who} to connect ${needed.appName}. Run the tool again to get a new link.`,
      FailureType.consentTimedOut,
      { app: needed.app, consentId },
    );
  }
  if (decisionFor(needed.app, consentId, waitingSince) === 'denied') {
    throw ApplicationFailure.nonRetryable(`${who} declined to connect ${needed.appName}, so the run cannot continue.`, FailureType.consentDeclined, {
      app: needed.app,
      consentId,
    });
  }
}

/** The decision on request `consentId` (for `app`, waited on since decision number `waitingSince`), if one came. */
function decisionFor(app: string, consentId: string, waitingSince: number): ConsentDecision['decision'] | undefined {
  const latest = decisions.get(app);
  return decidedRequests.get(consentId) ?? (latest && latest.serial > waitingSince ? latest.decision : undefined);
}

async function closeRequest(consentId: string, outcome: 'cancelled'): Promise<void> {
  await announceSettled(consentId);
  await bookkeepingActivities.settleConsentRequest({ consentId, outcome });
}

function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  return `${Math.round(ms / 1000)} seconds`;
}
