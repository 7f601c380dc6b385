import { condition, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  awaitOutcomeUpdate,
  consentPendingSignal,
  consentSettledSignal,
  runStatusQuery,
  type PendingConsent,
  type RunStatus,
} from '../protocol.ts';

/**
 * What the root run knows about the whole run tree: the consents any workflow in it waits for, and
 * the final outcome. Lives in the root workflow; descendants report to it by signal.
 */
const pending = new Map<string, PendingConsent>();
let outcome: RunStatus | undefined;

export function isRootRun(): boolean {
  return !workflowInfo().parent;
}

function rootWorkflowId(): string {
  const info = workflowInfo();
  return info.root?.workflowId ?? info.workflowId;
}

function status(): RunStatus {
  if (outcome) return outcome;
  return pending.size ? { state: 'paused', pending: [...pending.values()] } : { state: 'running', pending: [] };
}

/** Installs the root's query, update and the signals descendants send. */
export function serveRunStatus(): void {
  setHandler(consentPendingSignal, (request) => void pending.set(request.consentId, request));
  setHandler(consentSettledSignal, ({ consentId }) => void pending.delete(consentId));
  setHandler(runStatusQuery, status);
  setHandler(awaitOutcomeUpdate, async ({ seenConsentIds = [] }) => {
    const seen = new Set(seenConsentIds);
    await condition(() => outcome !== undefined || [...pending.keys()].some((id) => !seen.has(id)));
    return status();
  });
}

export function recordOutcome(final: RunStatus): void {
  pending.clear();
  outcome = final;
}

export async function announcePending(request: PendingConsent): Promise<void> {
  if (isRootRun()) pending.set(request.consentId, request);
  else await getExternalWorkflowHandle(rootWorkflowId()).signal(consentPendingSignal, request);
}

export async function announceSettled(consentId: string): Promise<void> {
  if (isRootRun()) pending.delete(consentId);
  else await getExternalWorkflowHandle(rootWorkflowId()).signal(consentSettledSignal, { consentId });
}

export { rootWorkflowId };
