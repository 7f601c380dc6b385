import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { ScheduleClientInterceptor, WorkflowClientInterceptor } from '@temporalio/client';
import { AsyncLocalStorage } from 'node:async_hooks';
import { IDENTITY_HEADER } from '../../core/identity/context.ts';
import { MESSAGE_HEADER, type WorkflowMessageSigner } from '../../core/identity/workflow-messages.ts';

const signedIdentity = new AsyncLocalStorage<string>();

/** Runs `work` with every Temporal call inside it carrying `token` (a signed identity) as a header. */
export function actingAs<T>(token: string, work: () => Promise<T>): Promise<T> {
  return signedIdentity.run(token, work);
}

function stamp(headers: Headers): Headers {
  const token = signedIdentity.getStore();
  return token ? { ...headers, [IDENTITY_HEADER]: defaultPayloadConverter.toPayload(token) } : headers;
}

/**
 * Client side of identity propagation: starts, signals and updates made inside `actingAs` carry the identity.
 * With `signMessage` (the gateway's), every signal also carries its own signature (core/identity/workflow-messages.ts).
 */
export const identityClientInterceptor = (signMessage?: WorkflowMessageSigner): WorkflowClientInterceptor => ({
  start: (input, next) => next({ ...input, headers: stamp(input.headers) }),
  signal: async (input, next) => {
    const headers = stamp(input.headers);
    if (signMessage) {
      const token = await signMessage({ workflowId: input.workflowExecution.workflowId, name: input.signalName, args: input.args as unknown[] });
      headers[MESSAGE_HEADER] = defaultPayloadConverter.toPayload(token);
    }
    return next({ ...input, headers });
  },
  signalWithStart: (input, next) => next({ ...input, headers: stamp(input.headers) }),
  startUpdate: (input, next) => next({ ...input, headers: stamp(input.headers) }),
  startUpdateWithStart: (input, next) => next({ ...input, workflowStartHeaders: stamp(input.workflowStartHeaders), updateHeaders: stamp(input.updateHeaders) }),
});

/**
 * The same for schedules: a schedule created inside `actingAs` carries the identity as a header of its
 * start-workflow action, and Temporal hands that header to every run the schedule starts.
 */
export const identityScheduleInterceptor: ScheduleClientInterceptor = {
  create: (input, next) => next({ ...input, headers: stamp(input.headers) }),
};
