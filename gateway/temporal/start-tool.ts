import type { Client, WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { IdentityContext } from '../../core/identity/context.ts';
import type { IdentitySigner } from '../../core/identity/signer.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import type { RunOptions } from '../../workflows/protocol.ts';
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
  try {
    return await actingAs(token, () => client.workflow.start(tool.name, { taskQueue, workflowId, args: [parsed.data, options], typedSearchAttributes }));
  } catch (error) {
    throw explainUnregisteredSearchAttributes(error);
  }
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
