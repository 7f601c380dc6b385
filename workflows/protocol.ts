/**
 * Signals, queries and updates a Baton run understands. Shared by workflow code and by clients
 * (gateway, tests), so both sides name them the same way.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ConnectionMissingReason, UpstreamQuestion } from '../activities/contract.ts';

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

/** Questions an upstream MCP server asked the user in the middle of a call, waiting in some workflow of the run. */
export interface PendingInput {
  inputId: string;
  /** The upstream's id (`mcpServers.<id>`) and the tool that asks. */
  server: string;
  tool: string;
  /** By the upstream's own keys. */
  questions: Record<string, UpstreamQuestion>;
  waitingWorkflowId: string;
}

/** The user's answers to a PendingInput (elicitation results by the upstream's keys), or why there are none. */
export interface InputAnswer {
  inputId: string;
  responses?: Record<string, unknown>;
  /** The caller's client cannot show the questions: the step fails with this explanation. */
  unanswerable?: string;
}

export type RunStatus =
  | { state: 'running'; pending: [] }
  /** `inputs`: upstream questions waiting for the user (absent when there are none). */
  | { state: 'paused'; pending: PendingConsent[]; inputs?: PendingInput[] }
  | { state: 'completed'; pending: []; result: unknown }
  | { state: 'failed'; pending: []; error: { type: string | null; message: string } };

export interface ConsentDecision {
  app: string;
  decision: 'granted' | 'denied';
  /** The consent requests this decision answers; a wait for any other request ignores it. (Absent in histories from before.) */
  consentIds?: string[];
}

/** Signals only the gateway sends: each must carry its signature (core/identity/workflow-messages.ts), checked before the run acts on it. */
export const GATEWAY_SIGNALS: ReadonlySet<string> = new Set(['baton.consentDecision', 'baton.inputAnswer']);

/** Sent to every workflow waiting on an app once the user connected it (or refused). */
export const consentDecisionSignal = defineSignal<[ConsentDecision]>('baton.consentDecision');
/** A descendant tells the root run that it paused / resumed, so the root can answer for the whole tree. */
export const consentPendingSignal = defineSignal<[PendingConsent]>('baton.consentPending');
export const consentSettledSignal = defineSignal<[{ consentId: string }]>('baton.consentSettled');

/** To the workflow that asked: the user's answers to an upstream's questions. */
export const inputAnswerSignal = defineSignal<[InputAnswer]>('baton.inputAnswer');
/** A descendant tells the root run that it waits for answers / no longer does. */
export const inputPendingSignal = defineSignal<[PendingInput]>('baton.inputPending');
export const inputSettledSignal = defineSignal<[{ inputId: string }]>('baton.inputSettled');

export const runStatusQuery = defineQuery<RunStatus>('baton.status');
/**
 * Resolves as soon as the run completes, fails, or pauses on a consent or an upstream question the caller
 * has not seen yet (`seenConsentIds` holds both kinds of id): the event-driven way for a gateway to wait
 * for a run without polling.
 */
export const awaitOutcomeUpdate = defineUpdate<RunStatus, [{ seenConsentIds?: string[] }]>('baton.awaitOutcome');
