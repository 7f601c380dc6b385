/**
 * `baton/testing`: run one of your tools in a real Temporal test environment (a local dev server from the
 * Temporal CLI, started for you, or one you pass) without the rest of Baton: the app and upstream MCP calls are
 * answered by the fakes you give, the run acts as the identity you give, and every call it made comes back with
 * the result. Child tools, pauses and retries run as they do in production; only the activities are fakes.
 *
 * @example
 * import { testTool } from 'baton/testing';
 * const { result, calls } = await testTool({
 *   tools: new URL('./index.ts', import.meta.url),
 *   tool: 'github_profile',
 *   input: {},
 *   as: { subject: 'alice' },
 *   apps: { github: { 'users.getAuthenticated': () => ({ login: 'alice' }) } },
 * });
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BatonActivities, CallAppInput, CallMcpToolInput, McpToolResult } from '../activities/contract.ts';
import type { IdentityContext } from '../core/identity/context.ts';
import { startTemporalDevServer } from '../scripts/temporal-dev-server.ts';
import { workflowBundlerOptions, workflowInterceptorModules, writeWorkflowsEntry } from '../worker/bundle.ts';

/** A fake app: its answer per action, computed from the action's input (throw to make the call fail). */
export type FakeApp = Record<string, (input: unknown) => unknown>;
/** A fake upstream MCP server: its answer per tool (a whole result, or structured content). */
export type FakeMcpServer = Record<string, (args: Record<string, unknown>) => McpToolResult | Record<string, unknown>>;

export interface TestToolOptions {
  /** The module your tools come from (as `toolsFrom` names it): a path or file URL. */
  tools: string | URL;
  /** The tool to run, by name. */
  tool: string;
  input: unknown;
  /** Who the run acts as; the rest of the identity gets test defaults (tenant `test`, signed in with OAuth). */
  as?: Partial<IdentityContext> & { subject: string };
  apps?: Record<string, FakeApp>;
  mcpServers?: Record<string, FakeMcpServer>;
  /** A Temporal test environment to use; without one, a local dev server is started and stopped for this run. */
  env?: TestWorkflowEnvironment;
}

/** One app or upstream call the run made, as whom, with what. */
export interface RecordedCall {
  kind: 'app' | 'mcp';
  target: string;
  action: string;
  input: unknown;
  as: string;
}

export async function testTool(options: TestToolOptions): Promise<{ result: unknown; calls: RecordedCall[] }> {
  const env = options.env ?? (await startTemporalDevServer());
  const scratch = mkdtempSync(join(tmpdir(), 'baton-test-tool-'));
  try {
    const identity: IdentityContext = {
      email: null,
      displayName: null,
      tenant: 'test',
      authMethod: 'oauth',
      groups: [],
      roles: [],
      issuer: 'baton-testing',
      inboundTokenRef: null,
      headerOverrideRef: null,
      client: null,
      server: null,
      ...options.as,
      subject: options.as?.subject ?? 'tester',
    };
    const calls: RecordedCall[] = [];
    const taskQueue = `baton-test-${randomUUID()}`;
    const workflowId = `${options.tool}-${randomUUID()}`;
    const modulePath = options.tools instanceof URL ? fileURLToPath(options.tools) : options.tools;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowsPath: await writeWorkflowsEntry([modulePath], scratch),
      bundlerOptions: workflowBundlerOptions(),
      interceptors: { workflowModules: workflowInterceptorModules(false) },
      activities: fakeActivities(identity, { rootWorkflowId: workflowId, tool: options.tool }, options, calls),
      sinks: { runRecords: { finished: { fn: () => undefined } } },
    });
    const result = await worker.runUntil(env.client.workflow.execute(options.tool, { taskQueue, workflowId, args: [options.input] }));
    return { result, calls };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (!options.env) await env.teardown();
  }
}

function fakeActivities(identity: IdentityContext, binding: { rootWorkflowId: string; tool: string }, options: TestToolOptions, calls: RecordedCall[]): BatonActivities {
  return {
    async verifyRunIdentity() {
      return { identity, binding };
    },
    async callApp({ app, action, input }: CallAppInput) {
      calls.push({ kind: 'app', target: app, action, input, as: identity.subject });
      const answer = options.apps?.[app]?.[action];
      if (!answer) throw new Error(`testTool has no fake answer for ${app} ${action}: pass apps: { ${app}: { '${action}': (input) => ... } }.`);
      return answer(input);
    },
    async callMcpTool({ server, tool, arguments: args }: CallMcpToolInput) {
      calls.push({ kind: 'mcp', target: server, action: tool, input: args, as: identity.subject });
      const answer = options.mcpServers?.[server]?.[tool];
      if (!answer) throw new Error(`testTool has no fake answer for the MCP server ${server}'s ${tool}: pass mcpServers: { ${server}: { ${tool}: (args) => ... } }.`);
      const result = answer(args);
      return Array.isArray(result.content) ? (result as McpToolResult) : { content: [], structuredContent: result as Record<string, unknown> };
    },
    async recordConsentRequest() {
      return { connectedMeanwhile: false };
    },
    async settleConsentRequest() {},
    async recordRunEvent() {},
    async verifyWorkflowMessage({ name }) {
      throw new Error(`testTool sends a run no signals, so nothing can vouch for this "${name}".`);
    },
  };
}
