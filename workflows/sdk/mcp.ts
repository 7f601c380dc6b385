import { ApplicationFailure } from '@temporalio/workflow';
import { asksForInput, FailureType, type McpToolResult, type UpstreamAnswer } from '../../activities/contract.ts';
import { appActivities } from './activities.ts';
import { callWithConsent } from './app.ts';
import { runState } from './run-state.ts';
import { askUser } from './user-input.ts';

/** Rounds of questions one upstream call may ask before Baton stops answering (an upstream that never settles). */
const MAX_QUESTION_ROUNDS = 5;

export interface McpHandle {
  /**
   * Calls one of the upstream's tools as the run's caller and returns its structured result (or, without
   * one, its text); an `isError` answer fails the step with UpstreamToolError. Pauses for consent when the
   * user must connect the upstream first.
   */
  call<Result = unknown>(tool: string, args?: Record<string, unknown>): Promise<Result>;
  /** The same call, returning the upstream's whole answer (content blocks, structured content, `isError`). */
  callTool(tool: string, args?: Record<string, unknown>): Promise<McpToolResult>;
}

/**
 * `mcp('notes').call('create_note', { title, body })`: an upstream MCP server's tool, usable in any tool or
 * callable at any depth, declared in `mcpServers` so consent pre-flight asks for it with the apps.
 */
export function mcp(server: string): McpHandle {
  const definition = runState.definition;
  if (definition && !definition.mcpServers.includes(server)) {
    throw ApplicationFailure.nonRetryable(
      `"${definition.name}" calls the MCP server "${server}" but does not declare it in \`mcpServers\`; declare it so consent pre-flight knows about it.`,
      FailureType.undeclaredApp,
    );
  }
  // Questions the upstream asks (input_required forms) go to the user; the call is made again with the answers.
  const callTool = async (tool: string, args: Record<string, unknown> = {}): Promise<McpToolResult> => {
    let answer: UpstreamAnswer | undefined;
    for (let round = 1; ; round += 1) {
      const result = await callWithConsent((stepKey) => appActivities.callMcpTool({ server, tool, arguments: args, stepKey, ...(answer ? { answer } : {}) }));
      if (!asksForInput(result)) return result;
      if (round > MAX_QUESTION_ROUNDS) {
        throw ApplicationFailure.nonRetryable(`${server} ${tool} kept asking questions after ${MAX_QUESTION_ROUNDS} rounds of answers; stopped.`, FailureType.inputNotAnswered);
      }
      answer = await askUser(server, tool, result.inputRequired);
    }
  };
  return {
    callTool,
    async call<Result>(tool: string, args: Record<string, unknown> = {}): Promise<Result> {
      const result = await callTool(tool, args);
      if (result.isError) throw ApplicationFailure.nonRetryable(`${server} ${tool} answered with an error: ${textOf(result)}`, FailureType.upstreamToolError, result);
      return (result.structuredContent ?? textOf(result)) as Result;
    },
  };
}

function textOf(result: McpToolResult): string {
  return result.content
    .filter((block): block is { type: 'text'; text: string } => typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'text')
    .map((block) => block.text)
    .join('\n');
}
