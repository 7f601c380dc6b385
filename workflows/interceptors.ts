/**
 * Workflow-side identity interceptors, registered by the worker through `workflowModules` (after the
 * tracing ones of tracing-interceptors.ts when tracing is on).
 *
 * Identity. Inbound: keep the signed identity header the run was started with, and work out the run
 * path. Outbound: stamp that same header (and the path) on every activity, child workflow, signal and
 * continue-as-new, overwriting whatever else might be there — workflow code cannot swap identities.

 */
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import {
  log,
  patched,
  workflowInfo,
  type ActivityInput,
  type ContinueAsNewInput,
  type LocalActivityInput,
  type Next,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { IDENTITY_HEADER, MESSAGE_HEADER, RUN_PATH_HEADER } from '../core/identity/context.ts';
import { TRACE_HEADER } from '../core/telemetry/trace-header.ts';
import { GATEWAY_SIGNALS } from './protocol.ts';
import { messageActivities } from './sdk/activities.ts';
import { runState } from './sdk/run-state.ts';

/** Runs from before signals were signed replay without the check their histories lack. */
const SIGNED_SIGNALS = 'baton.signed-signals';
/** Signatures already taken: a signal copied from the history and sent again is not acted on twice. */
const takenSignatures = new Set<string>();

class IdentityInbound implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = workflowInfo();
    runState.identityHeader = input.headers[IDENTITY_HEADER];
    runState.traceHeader = input.headers[TRACE_HEADER];
    // Only a child trusts the path it was given: that header was written by this interceptor in its
    // parent. A root run ignores any path a client may have sent and starts its own.
    // And only if the path ends at that parent (Temporal says who it is): a workflow started by something else
    // cannot pass itself off as a step of another user's run.
    const given = info.parent ? readPath(input.headers) : [];
    const throughParent = given.at(-1) === info.workflowId ? given.at(-2) : given.at(-1);
    const parentPath = info.parent && throughParent === info.parent.workflowId ? given : [];
    // After continue-as-new the path already ends with this workflow's id.
    runState.runPath = parentPath.at(-1) === info.workflowId ? parentPath : [...parentPath, info.workflowId];
    return next(input);
  }

  /**
   * A signal only the gateway sends (a consent decision, answers) is acted on only with the gateway's
   * signature over this workflow, the signal's name and its arguments, each signature once; anything else
   * is dropped (and logged) before a handler sees it. Signals a run's own workflows send each other are
   * checked where they are used (the gateway matches reported consents to the requests it holds).
   */
  async handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    if (!GATEWAY_SIGNALS.has(input.signalName) || !patched(SIGNED_SIGNALS)) return next(input);
    const header = input.headers[MESSAGE_HEADER];
    const token = header ? defaultPayloadConverter.fromPayload<unknown>(header) : null;
    try {
      const { id } = await messageActivities.verifyWorkflowMessage({
        token: typeof token === 'string' ? token : null,
        workflowId: workflowInfo().workflowId,
        name: input.signalName,
        args: [...input.args],
      });
      if (takenSignatures.has(id)) throw new Error('this signature was already used');
      takenSignatures.add(id);
    } catch (error) {
      log.warn(`Ignored a "${input.signalName}" signal: ${refusal(error)}`);
      return;
    }
    return next(input);
  }
}

/** The innermost message of an activity failure (the verifier's own words). */
function refusal(error: unknown): string {
  let current = error as { cause?: unknown; message?: string } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  return current?.message ?? String(error);
}

class IdentityOutbound implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return next({ ...input, headers: withIdentity(input.headers) });
  }
  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>) {
    return next({ ...input, headers: withIdentity(input.headers) });
  }
  startChildWorkflowExecution(input: StartChildWorkflowExecutionInput, next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>) {
    return next({ ...input, headers: withIdentity(input.headers) });
  }
  signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>) {
    return next({ ...input, headers: withIdentity(input.headers) });
  }
  continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>) {
    return next({ ...input, headers: withIdentity(input.headers) });
  }
}

function withIdentity(headers: Headers): Headers {
  const stamped: Headers = { ...headers, [RUN_PATH_HEADER]: defaultPayloadConverter.toPayload(runState.runPath) };
  if (runState.identityHeader) stamped[IDENTITY_HEADER] = runState.identityHeader;
  else delete stamped[IDENTITY_HEADER];
  return stamped;
}

function readPath(headers: Headers): string[] {
  const payload = headers[RUN_PATH_HEADER];
  const path = payload ? defaultPayloadConverter.fromPayload<unknown>(payload) : [];
  return Array.isArray(path) && path.every((id) => typeof id === 'string') ? path : [];
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new IdentityInbound()],
  outbound: [new IdentityOutbound()],
});
