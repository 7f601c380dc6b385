import type { Stack } from './stack.ts';

/** Runs of a workflow type on the stack's task queue, straight from Temporal's visibility. */
export async function runsOf(stack: Stack, tool: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const run of stack.client.workflow.list({ query: `WorkflowType = '${tool}' AND TaskQueue = '${stack.settings.temporal.taskQueue}'` })) ids.push(run.workflowId);
  return ids;
}
