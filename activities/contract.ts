/**
 * The activities workflow code may call, as pure types: workflow code imports this file and nothing
 * else from activities/, so the workflow bundle never pulls in Node-only code.
 */
import type { Payload } from '@temporalio/common';
import type { Sinks } from '@temporalio/workflow';
import type { VerifiedIdentity } from '../core/identity/context.ts';

export interface CallAppInput {
  app: string;
  action: string;
  input: unknown;
  /** Stable for one logical step of one workflow: retries and resumes reuse it, so the app sees it once. */
  stepKey: string;
}

export interface CallMcpToolInput {
  /** The upstream MCP server's id (`mcpServers.<id>`). */
  server: string;
  /** The upstream's own tool name. */
  tool: string;
  arguments: Record<string, unknown>;
  stepKey: string;
  /** The user's answers to the questions the upstream asked in the previous round, and its state to echo. */
  answer?: UpstreamAnswer;
}

/** A question an upstream MCP server asks the user mid-call: a 2026-07-28 `input_required` form elicitation. */
export interface UpstreamQuestion {
  message: string;
  /** The flat JSON schema of the form (MCP's restricted elicitation schema), as the upstream sent it. */
  requestedSchema: Record<string, unknown>;
}

/** The upstream needs the user's answers before it can finish the call; the call is retried with them. */
export interface McpInputRequired {
  inputRequired: {
    /** By the upstream's own keys. */
    questions: Record<string, UpstreamQuestion>;
    /** The upstream's opaque state, echoed back byte for byte with the answers. */
    requestState?: string;
  };
}

/** Whether an upstream call came back with questions for the user rather than the tool's result. */
export function asksForInput(result: object): result is McpInputRequired {
  return 'inputRequired' in result && typeof result.inputRequired === 'object' && result.inputRequired !== null;
}

export interface UpstreamAnswer {
  /** The user's elicitation results (`{ action, content? }`), by the upstream's keys. */
  inputResponses: Record<string, unknown>;
  requestState?: string;
}

/** An upstream tool's answer, unchanged in meaning: content blocks, structured content, tool-level error. */
export interface McpToolResult {
  content: unknown[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export type ConnectionMissingReason = 'never_connected' | 'revoked' | 'refresh_failed' | 'expired' | 'unreadable';

/**
 * Reasons a connection made after the failed call answers (there was none usable then): a request with one of
 * these is settled as granted when the vault now shows the app active. An `expired` or `unreadable`
 * connection may still look active while it cannot be used: those are always asked.
 */
export const ANSWERED_BY_A_NEW_CONNECTION: ReadonlySet<string> = new Set<ConnectionMissingReason>(['never_connected', 'revoked', 'refresh_failed']);

/** Details of the `ConnectionRequired` failure callApp raises when the user must (re)connect an app. */
export interface ConnectionRequiredDetails {
  app: string;
  appName: string;
  scopes: string[];
  reason: ConnectionMissingReason;
  message: string;
}

export interface ConsentRequestRecord {
  consentId: string;
  app: string;
  scopes: string[];
  reason: ConnectionMissingReason;
  rootWorkflowId: string;
  waitingWorkflowId: string;
}

export type ConsentOutcome = 'expired' | 'cancelled';

/** A tool run's start or end, for the audit trail (written by the root workflow). */
export interface RunEvent {
  event: 'started' | 'completed' | 'failed' | 'cancelled';
  /** Epoch ms the run started (Temporal's own clock), for the duration of the finished record. */
  startedAt: number;
  message: string | null;
}

/**
 * A root run's end, handed to the worker through a sink as the run closes (worker/run-record-sink.ts): the
 * worker writes it before it reports the workflow task, with no local activity and no extra activation.
 */
export interface RunFinishedRecord {
  event: Exclude<RunEvent['event'], 'started'>;
  startedAt: number;
  message: string | null;
  /** What the run's identity check returned (the verified identity, its binding) and the run's path. */
  caller: VerifiedIdentity & { runPath: string[] };
  /** The trace context the run was started with (core/telemetry/trace-header.ts), so the record joins the run's trace. */
  traceHeader?: Payload;
}

/** The sinks Baton's workflow code calls; the worker injects them (worker/create-worker.ts). */
export interface BatonSinks extends Sinks {
  runRecords: { finished(record: RunFinishedRecord): void };
}

export interface BatonActivities {
  callApp(input: CallAppInput): Promise<unknown>;
  /** Calls one tool of an upstream MCP server as the run's caller, with the same credentials, consent and audit as callApp. */
  callMcpTool(input: CallMcpToolInput): Promise<McpToolResult | McpInputRequired>;
  /**
   * Returns the identity the worker verified from the run's header (a local activity at each workflow start);
   * with `recordStart` (a root run), also writes the run's `tool_call.started` record in the same activity.
   */
  /**
   * `execution`: what Temporal says this workflow is (its type, the first run id of its chain), passed by
   * Baton's own workflow code, so a root run's identity is checked against the tool it was signed for and
   * claimed by the first execution that uses it.
   */
  verifyRunIdentity(input?: { recordStart?: boolean; execution?: { workflowType: string; firstRunId: string } }): Promise<VerifiedIdentity>;
  /**
   * Records the paused step's consent request. `connectedMeanwhile`: the user connected the app (with the
   * scopes asked for) between the failed call and this record, so no signal will come for it — the request is
   * settled as granted at once and the step may retry.
   */
  recordConsentRequest(request: ConsentRequestRecord): Promise<{ connectedMeanwhile: boolean }>;
  settleConsentRequest(input: { consentId: string; outcome: ConsentOutcome }): Promise<void>;
  recordRunEvent(input: RunEvent): Promise<void>;
  /**
   * Checks the gateway's signature on a signal this workflow received (core/identity/workflow-messages.ts);
   * resolves to the signature's id, which the workflow takes once. Fails (SignalRejected) when it is missing or wrong.
   * It acts as nobody: no run identity is checked for it (activities/caller-context.ts).
   */
  verifyWorkflowMessage(input: { token: string | null; workflowId: string; name: string; args: unknown[] }): Promise<{ id: string }>;
}

/** Failure types Baton raises on purpose; workflow code and clients match on these. */
export const FailureType = {
  connectionRequired: 'ConnectionRequired',
  identityRejected: 'IdentityRejected',
  unknownApp: 'UnknownApp',
  unknownAction: 'UnknownAction',
  invalidActionInput: 'InvalidActionInput',
  appRequestFailed: 'AppRequestFailed',
  serviceAccountMissing: 'ServiceAccountMissing',
  consentDeclined: 'ConsentDeclined',
  consentTimedOut: 'ConsentTimedOut',
  invalidToolInput: 'InvalidToolInput',
  unknownTool: 'UnknownTool',
  undeclaredApp: 'UndeclaredApp',
  /** An upstream MCP tool answered `isError` where the tool's code asked for its structured result. */
  upstreamToolError: 'UpstreamToolError',
  /** An upstream asked the user something and nobody answered in time, or the user's client cannot show the question. */
  inputNotAnswered: 'InputNotAnswered',
  /** A signal only the gateway sends came without its valid signature (the workflow ignores it). */
  signalRejected: 'SignalRejected',
} as const;
