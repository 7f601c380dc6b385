import type { Client, WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { IdentityContext } from '../../core/identity/context.ts';
import type { IdentitySigner } from '../../core/identity/signer.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import type { RunOptions } from '../../workflows/protocol.ts';
import { describeIssues } from '../../core/schema-issues.ts';
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
 * picks the run id, and signs the identity bound to that run.
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
  return actingAs(token, () => client.workflow.start(tool.name, { taskQueue, workflowId, args: [parsed.data, options] }));
}
