import { condition, getExternalWorkflowHandle, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  awaitOutcomeUpdate,
  consentPendingSignal,
  consentSettledSignal,
  inputPendingSignal,
  inputSettledSignal,
  runStatusQuery,
  type PendingConsent,
  type PendingInput,
  type RunStatus,
} from '../protocol.ts';
import { BatonUser, BatonWaitingFor } from '../search-attributes.ts';

/**
 * What the root run knows about the whole run tree: the consents any workflow in it waits for, and
 * the final outcome. Lives in the root workflow; descendants report to it by signal.
 */
const pending = new Map<string, PendingConsent>();
/** Upstream questions any workflow in the tree waits for the user to answer. */
const inputs = new Map<string, PendingInput>();
let outcome: RunStatus | undefined;
/** The apps last published as the run's BatonWaitingFor search attribute. */
let waitingFor: string[] = [];

export function isRootRun(): boolean {
  return !workflowInfo().parent;
}

function rootWorkflowId(): string {
  const info = workflowInfo();
  return info.root?.workflowId ?? info.workflowId;
}

function status(): RunStatus {
  if (outcome) return outcome;
  if (inputs.size) return { state: 'paused', pending: [...pending.values()], inputs: [...inputs.values()] };
  return pending.size ? { state: 'paused', pending: [...pending.values()] } : { state: 'running', pending: [] };
}

/** Installs the root's query, update and the signals descendants send. */
export function serveRunStatus(): void {
  setHandler(consentPendingSignal, (request) => addPending(request));
  setHandler(consentSettledSignal, ({ consentId }) => removePending(consentId));
  setHandler(inputPendingSignal, (request) => void inputs.set(request.inputId, request));
  setHandler(inputSettledSignal, ({ inputId }) => void inputs.delete(inputId));
  setHandler(runStatusQuery, status);
  setHandler(awaitOutcomeUpdate, async ({ seenConsentIds = [] }) => {
    const seen = new Set(seenConsentIds);
    await condition(() => outcome !== undefined || [...pending.keys(), ...inputs.keys()].some((id) => !seen.has(id)));
    return status();
  });
}

export function recordOutcome(final: RunStatus): void {
  pending.clear();
  inputs.clear();
  publishWaitingFor();
  outcome = final;
}

export async function announcePending(request: PendingConsent): Promise<void> {
  if (isRootRun()) addPending(request);
  else await getExternalWorkflowHandle(rootWorkflowId()).signal(consentPendingSignal, request);
}

export async function announceSettled(consentId: string): Promise<void> {
  if (isRootRun()) removePending(consentId);
  else await getExternalWorkflowHandle(rootWorkflowId()).signal(consentSettledSignal, { consentId });
}

export async function announceInput(request: PendingInput): Promise<void> {
  if (isRootRun()) inputs.set(request.inputId, request);
  else await getExternalWorkflowHandle(rootWorkflowId()).signal(inputPendingSignal, request);
}

export async function announceInputSettled(inputId: string): Promise<void> {
  if (isRootRun()) inputs.delete(inputId);
  else await getExternalWorkflowHandle(rootWorkflowId()).signal(inputSettledSignal, { inputId });
}

function addPending(request: PendingConsent): void {
  pending.set(request.consentId, request);
  publishWaitingFor();
}

function removePending(consentId: string): void {
  pending.delete(consentId);
  publishWaitingFor();
}

/**
 * Keeps the root run's BatonWaitingFor search attribute (app ids only) in step with the pending
 * consents of the whole tree, so paused runs can be found in the Temporal UI; removed once none is left.
 * Only runs the gateway tagged with BatonUser do this: that tag shows the namespace has Baton's search
 * attributes registered (upserting an unknown one would stall the run), and runs started before this
 * existed replay without a command their history lacks.
 */
function publishWaitingFor(): void {
  if (workflowInfo().typedSearchAttributes.get(BatonUser) === undefined) return;
  const apps = [...new Set([...pending.values()].map((request) => request.app))].sort();
  if (apps.join('\n') === waitingFor.join('\n')) return;
  waitingFor = apps;
  upsertSearchAttributes([{ key: BatonWaitingFor, value: apps.length ? apps : null }]);
}

export { rootWorkflowId };
