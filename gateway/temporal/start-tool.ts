import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { IdentityContext } from '../../core/identity/context.ts';
import type { IdentitySigner } from '../../core/identity/signer.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import { awaitOutcomeUpdate, type RunOptions, type RunStatus } from '../../workflows/protocol.ts';
import { describeIssues } from '../../core/schema-issues.ts';
import { BatonTool, BatonUser } from '../../workflows/search-attributes.ts';
import { actingAs } from './identity-propagation.ts';

export class InvalidToolInputError extends Error {
  override name = 'InvalidToolInputError';
  readonly issues: string[];
  constructor(tool: string, issues: string[]) {
    super(`Invalid input for "${tool}": ${issues.join('; ')}`);
    this.issues = issues;
  }
}

export interface StartToolRequest {
  tool: CallableDefinition;
  input: unknown;
  identity: IdentityContext;
  taskQueue: string;
  options?: RunOptions;
}

/**
 * Starts a tool's workflow as the caller: validates the input first (nothing starts on bad input),
 * picks the run id, and signs the identity bound to that run. The run is tagged with the caller's
 * subject and the tool's name (search attributes) so it can be found in the Temporal UI.
 */
export async function startTool(client: Client, sign: IdentitySigner, request: StartToolRequest): Promise<WorkflowHandle> {
  const { token, name, start } = await prepareStart(sign, request);
  try {
    return await actingAs(token, () => client.workflow.start(name, start));
  } catch (error) {
    throw explainUnregisteredSearchAttributes(error);
  }
}

/** A run started and already being waited on: `outcome` settles as the run's `baton.awaitOutcome` update does. */
export interface StartedAndAwaited {
  workflowId: string;
  outcome: () => Promise<RunStatus>;
}

/**
 * Starts a tool's workflow and its first `baton.awaitOutcome` update in one request (update-with-start):
 * the run takes the update in its first workflow task, so no round trip and no extra workflow task is spent
 * between starting the run and waiting on it. Resolves once the run has started and accepted the update.
 */
export async function startToolAwaitingOutcome(client: Client, sign: IdentitySigner, request: StartToolRequest): Promise<StartedAndAwaited> {
  const { token, name, start } = await prepareStart(sign, request);
  const startWorkflowOperation = new WithStartWorkflowOperation(name, { ...start, workflowIdConflictPolicy: 'FAIL' });
  try {
    const update = await actingAs(token, () => client.workflow.startUpdateWithStart(awaitOutcomeUpdate, { args: [{ seenConsentIds: [] }], waitForStage: 'ACCEPTED', startWorkflowOperation }));
    return { workflowId: start.workflowId, outcome: () => update.result() };
  } catch (error) {
    throw explainUnregisteredSearchAttributes(error);
  }
}

/** Validates the input (nothing starts on bad input), picks the run id and signs the identity bound to it. */
async function prepareStart(sign: IdentitySigner, request: StartToolRequest) {
  const { tool, identity, taskQueue, options = {} } = request;
  if (tool.kind !== 'tool') throw new Error(`"${tool.name}" is a callable, not a tool; it only runs inside another tool.`);
  const parsed = tool.input.safeParse(request.input);
  if (!parsed.success) {
    throw new InvalidToolInputError(tool.name, describeIssues(parsed.error));
  }
  const workflowId = `${tool.name}-${randomUUID()}`;
  const token = await sign(identity, { rootWorkflowId: workflowId, tool: tool.name });
  const typedSearchAttributes = [
    { key: BatonUser, value: identity.subject },
    { key: BatonTool, value: tool.name },
  ];
  // A run id is used once: never another execution under it, even after the run closed (the worker refuses a
  // reused id's identity too; this refuses it at the start).
  return {
    token,
    name: tool.name,
    start: { taskQueue, workflowId, args: [parsed.data, options] as [unknown, RunOptions], typedSearchAttributes, workflowIdReusePolicy: 'REJECT_DUPLICATE' as const },
  };
}

/** A namespace without Baton's search attributes refuses every start: say how to register them. */
function explainUnregisteredSearchAttributes(error: unknown): unknown {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  if (!/no mapping defined for search attribute Baton/.test(`${cause} ${error instanceof Error ? error.message : ''}`)) return error;
  return new Error(
    'The Temporal namespace has no Baton search attributes registered. Register them once: `temporal operator search-attribute create --name BatonUser --name BatonTool --type Keyword` and `temporal operator search-attribute create --name BatonWaitingFor --type KeywordList` (add --namespace and connection options as needed).',
    { cause: error },
  );
}
