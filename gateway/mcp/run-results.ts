import type { CallToolResult } from '@modelcontextprotocol/server';
import type { CallOutcome } from './tool-runner.ts';

/** A run that has ended, as the tool runner reports it. */
export type FinishedOutcome = Extract<CallOutcome, { kind: 'completed' | 'failed' }>;

/**
 * The tool result a finished run answers with — the same whether the client waited for it in `tools/call`,
 * fetched it with `get_run_result`, or follows the run as an MCP task. A failed run is a tool error
 * (`isError`), not a protocol error: the call itself went through.
 *
 * @example
 * finishedResult({ kind: 'failed', runId: 'triage_pull_request-1', message: 'alice declined GitHub' });
 * // → { isError: true, content: [{ type: 'text', text: 'The run failed: alice declined GitHub' }], structuredContent: { status: 'failed', … } }
 */
export function finishedResult(outcome: FinishedOutcome): CallToolResult {
  if (outcome.kind === 'failed') {
    return { isError: true, content: [{ type: 'text', text: `The run failed: ${outcome.message}` }], structuredContent: { status: 'failed', runId: outcome.runId, error: outcome.message } };
  }
  // An upstream tool's answer goes back as the upstream gave it (content, structured content, isError).
  if (outcome.toolResult) return { ...(outcome.result as CallToolResult), _meta: { 'baton/runId': outcome.runId } };
  const { result, runId } = outcome;
  const structured = result && typeof result === 'object' && !Array.isArray(result) ? (result as Record<string, unknown>) : { result };
  return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }], structuredContent: structured, _meta: { 'baton/runId': runId } };
}
