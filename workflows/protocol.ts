/**
 * Signals, queries and updates a Baton run understands. Shared by workflow code and by clients
 * (gateway, tests), so both sides name them the same way.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ConnectionMissingReason } from '../activities/contract.ts';

export interface RunOptions {
  /** How long a step waits for the user to connect an app before it fails. Default 15 minutes. */
  consentTimeoutMs?: number;
}

export interface PendingConsent {
  consentId: string;
  app: string;
  appName: string;
  scopes: string[];
  reason: ConnectionMissingReason;
  message: string;
  /** The workflow (at any depth) that is waiting; the one to signal when the user decides. */
  waitingWorkflowId: string;
}

export type RunStatus =
  | { state: 'running'; pending: [] }
  | { state: 'paused'; pending: PendingConsent[] }
  | { state: 'completed'; pending: []; result: unknown }
  | { state: 'failed'; pending: []; error: { type: string | null; message: string } };

export interface ConsentDecision {
  app: string;
  decision: 'granted' | 'denied';
}

/** Sent to every workflow waiting on an app once the user connected it (or refused). */
export const consentDecisionSignal = defineSignal<[ConsentDecision]>('baton.consentDecision');
/** A descendant tells the root run that it paused / resumed, so the root can answer for the whole tree. */
export const consentPendingSignal = defineSignal<[PendingConsent]>('baton.consentPending');
export const consentSettledSignal = defineSignal<[{ consentId: string }]>('baton.consentSettled');

export const runStatusQuery = defineQuery<RunStatus>('baton.status');
/**
 * Resolves as soon as the run completes, fails, or pauses on a consent the caller has not seen yet
 * (`seenConsentIds`): the event-driven way for a gateway to wait for a run without polling.
 */
export const awaitOutcomeUpdate = defineUpdate<RunStatus, [{ seenConsentIds?: string[] }]>('baton.awaitOutcome');
