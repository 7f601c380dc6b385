import { Counter, Histogram, type Registry } from 'prom-client';
import type { CallOutcome } from './tool-runner.ts';

/** What MCP callers got back for tools/call, as the gateway answered it. */
export interface McpCallMetrics {
  answered(tool: string, answer: CallOutcome['kind'], seconds: number): void;
}

/**
 * Per tool and answer (completed, failed, needs_consent — a consent prompt sent to the client — or
 * still_running), with the time the caller waited for the answer.
 */
export function mcpCallMetrics(registry: Registry): McpCallMetrics {
  const calls = new Counter({
    name: 'baton_mcp_tool_calls_total',
    help: 'MCP tools/call answers, by tool and answer (completed, failed, needs_consent, still_running).',
    labelNames: ['tool', 'answer'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'baton_mcp_tool_call_seconds',
    help: 'Time from a tools/call to its answer, by tool and answer.',
    labelNames: ['tool', 'answer'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return {
    answered(tool, answer, elapsed) {
      calls.inc({ tool, answer });
      seconds.observe({ tool, answer }, elapsed);
    },
  };
}
