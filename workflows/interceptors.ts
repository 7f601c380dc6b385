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
  workflowInfo,
  type ActivityInput,
  type ContinueAsNewInput,
  type LocalActivityInput,
  type Next,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { IDENTITY_HEADER, RUN_PATH_HEADER } from '../core/identity/context.ts';
import { TRACE_HEADER } from '../core/telemetry/trace-header.ts';
import { runState } from './sdk/run-state.ts';

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
