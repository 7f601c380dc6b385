import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { CallableDefinition } from './define.ts';
import { nextSequence, runState } from './run-state.ts';

/**
 * Runs another tool or callable as a child workflow. Its id extends this workflow's id, so the run
 * tree reads as a path in the Temporal UI; identity and run path travel in headers (interceptors).
 */
export function child<Input, Output>(definition: CallableDefinition<Input, Output>, input: Input): Promise<Output> {
  const parent = runState.definition;
  if (parent && !parent.uses.includes(definition)) {
    throw new Error(`"${parent.name}" starts "${definition.name}" but does not list it in \`uses\`; add it so consent pre-flight can see its apps.`);
  }
  return executeChild(definition.name, {
    args: [input, runState.options],
    workflowId: `${workflowInfo().workflowId}/${definition.name}-${nextSequence()}`,
  }) as Promise<Output>;
}
