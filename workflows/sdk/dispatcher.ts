import { allHandlersFinished, ApplicationFailure, CancellationScope, condition, isCancellation, log, patched, proxySinks, TemporalFailure, workflowInfo } from '@temporalio/workflow';
import type { BatonSinks, RunEvent, RunFinishedRecord } from '../../activities/contract.ts';
import { FailureType } from '../../activities/contract.ts';
import { describeIssues } from '../../core/schema-issues.ts';
import type { RunOptions } from '../protocol.ts';
import { acceptConsentDecisions } from './consent.ts';
import { acceptInputAnswers } from './user-input.ts';
import { z } from 'zod';
import { parseUpstreamToolName } from '../../core/upstreams/tool-names.ts';
import { collectDefinitions, type CallableDefinition } from './define.ts';
import { mcp } from './mcp.ts';
import { identityActivities, runRecordActivities } from './activities.ts';
import { isRootRun, recordOutcome, serveRunStatus } from './root-status.ts';
import { runState } from './run-state.ts';

/**
 * Builds the workflow bundle's default export: one dynamic workflow that runs whichever tool or
 * callable its workflow type names. Tools therefore need no hand-written export per workflow, and the
 * workflow type is the tool's own name.
 */
export function createDispatcher(tools: readonly CallableDefinition[]) {
  const definitions = collectDefinitions(tools);
  return async function batonRun(input: unknown, options: RunOptions = {}): Promise<unknown> {
    const { workflowType } = workflowInfo();
    const definition = definitions.get(workflowType) ?? upstreamTool(workflowType);
    if (!definition) {
      throw ApplicationFailure.nonRetryable(`No tool or callable named "${workflowType}" is registered on this worker.`, FailureType.unknownTool);
    }
    runState.definition = definition;
    runState.options = options;
    acceptConsentDecisions();
    acceptInputAnswers();
    if (!isRootRun()) return runBody(definition, input);

    serveRunStatus();
    try {
      const result = await runBody(definition, input, true);
      recordOutcome({ state: 'completed', pending: [], result });
      await recordRunEnd('completed', null);
      return result;
    } catch (error) {
      const failure = describeFailure(error);
      recordOutcome({ state: 'failed', pending: [], error: failure });
      // A cancelled run (its user disabled, say) still records how it ended.
      await CancellationScope.nonCancellable(() => recordRunEnd(isCancellation(error) ? 'cancelled' : 'failed', failure.message));
      throw error;
    } finally {
      // Let a waiting awaitOutcome update deliver the outcome before the run closes.
      await condition(allHandlersFinished);
    }
  };
}

/** Any object: an upstream tool's arguments are checked against its own JSON schema by callMcpTool. */
const upstreamArguments = z.record(z.string(), z.unknown());

/**
 * An upstream MCP server's tool called directly (`notes__create_note`): a run with one step, the tool
 * call, answering the upstream's result unchanged. Which upstreams and tools exist is the activity's
 * to check (it knows the configuration); the workflow only splits the name.
 */
function upstreamTool(workflowType: string): CallableDefinition | undefined {
  const parsed = parseUpstreamToolName(workflowType);
  if (!parsed) return undefined;
  return {
    kind: 'tool',
    name: workflowType,
    description: `${parsed.tool} of the MCP server ${parsed.server}`,
    input: upstreamArguments,
    apps: [],
    mcpServers: [parsed.server],
    uses: [],
    body: (args: Record<string, unknown>) => mcp(parsed.server).callTool(parsed.tool, args),
  };
}

/**
 * The run's start and end in the audit trail. Only after the identity is verified: a run with a forged
 * identity is refused before anything is recorded in anybody's name.
 */
async function recordRunEvent(event: RunEvent['event'], message: string | null): Promise<void> {
  if (!runState.verified) return;
  try {
    await runRecordActivities.recordRunEvent({ event, startedAt: workflowInfo().runStartTime.getTime(), message });
  } catch (error) {
    // The run's result matters more than its bookkeeping; the app calls it made are audited on their own.
    log.error('could not write the run record to the audit trail', { event, error: String(error) });
  }
}

/** The patch that moved a root run's finished record from a local activity to the worker's sink. */
const FINISHED_RECORD_BY_SINK = 'baton.finished-record-by-sink';

const { runRecords } = proxySinks<BatonSinks>();

/**
 * The run's end in the audit trail. The worker writes it (worker/run-record-sink.ts) before it reports the
 * workflow task that closes the run, so it costs no local activity and no extra activation; a worker that
 * dies first leaves the task to be run again, which writes it then. Runs from before replay the old way.
 */
async function recordRunEnd(event: RunFinishedRecord['event'], message: string | null): Promise<void> {
  const verified = runState.verified;
  if (!verified) return;
  if (!patched(FINISHED_RECORD_BY_SINK)) return recordRunEvent(event, message);
  runRecords.finished({ event, message, startedAt: workflowInfo().runStartTime.getTime(), caller: { ...verified, runPath: runState.runPath }, traceHeader: runState.traceHeader });
}

/** The patch that moved a root run's start record into its identity check (runs from before replay the old way). */
const START_RECORD_IN_IDENTITY_CHECK = 'baton.start-record-in-identity-check';

/**
 * The worker's verdict on the run's signed identity. Whatever stops the check from concluding (a timeout
 * under load, Temporal unreachable for the schedule check) ends the run as IdentityRejected: fail closed,
 * with the one failure type clients match on.
 */
async function verifiedIdentity(recordStart: boolean) {
  try {
    // Runs started before the start record joined the identity check replay their two local activities.
    if (!patched(START_RECORD_IN_IDENTITY_CHECK)) {
      const verified = await identityActivities.verifyRunIdentity();
      runState.verified = verified;
      if (recordStart) await recordRunEvent('started', null);
      return verified;
    }
    const { workflowType, firstExecutionRunId } = workflowInfo();
    return await identityActivities.verifyRunIdentity({ recordStart, execution: { workflowType, firstRunId: firstExecutionRunId } });
  } catch (error) {
    const failure = describeFailure(error);
    if (failure.type === FailureType.identityRejected) throw error;
    throw ApplicationFailure.nonRetryable(`The run's identity could not be verified (${failure.message}); nothing was done.`, FailureType.identityRejected);
  }
}

async function runBody(definition: CallableDefinition, input: unknown, recordStart = false): Promise<unknown> {
  // Verified once per workflow by the worker (a local activity), so currentIdentity() is trustworthy; a root
  // run's start record is written in the same local activity.
  runState.verified = await verifiedIdentity(recordStart);
  const parsed = definition.input.safeParse(input);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error).join('; ');
    throw ApplicationFailure.nonRetryable(`Invalid input for "${definition.name}": ${issues}`, FailureType.invalidToolInput);
  }
  return definition.body(parsed.data);
}

/** The innermost Baton failure explains what went wrong; wrappers only say where. */
export function describeFailure(error: unknown): { type: string | null; message: string } {
  let innermost: unknown = error;
  while (innermost instanceof TemporalFailure && innermost.cause) innermost = innermost.cause;
  if (innermost instanceof ApplicationFailure) return { type: innermost.type ?? null, message: innermost.message };
  return { type: null, message: innermost instanceof Error ? innermost.message : String(innermost) };
}
