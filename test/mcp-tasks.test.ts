/**
 * Issue 16: Baton's runs as MCP tasks, with real clients of both eras — the official TypeScript client with
 * `@modelcontextprotocol/ext-tasks`' session for 2026-07-28, the Python `mcp` SDK sending `params.task` for
 * 2025-11-25 — against the whole stack: consent mid-task in the browser, cancellation through Temporal, other
 * users' tasks unknown, tasks surviving a gateway restart.
 */
import { createTaskSessionFromClient, toolDeclaration, type TaskExecutionEvent } from '@modelcontextprotocol/ext-tasks/client';
import { CallToolResultV2Schema } from '@modelcontextprotocol/ext-tasks/core/v2';
import type { Client } from '@modelcontextprotocol/client';
import { gatewayStackForSuite, type DemoUserName, type GatewayStack } from './support/gateway-stack.ts';
import { rawDispatchFor } from './support/raw-mcp.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), { env: { BATON_TASK_POLL_INTERVAL_MS: '100' } });

const modern = { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } } as const;
/** The 2026-07-28 request envelope of a client that takes tasks (and URL elicitations). */
const optIn = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'baton-test-client', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} }, elicitation: { url: {} } },
};

/** A 2026-07-28 task session of `user`'s: URL elicitations are consented to in the browser (and recorded). */
async function taskSession(user: DemoUserName, onConsent: (url: string) => Promise<void> = async (url) => void (await gs.consentInBrowser(url, user))) {
  const token = await gs.tokenFor(user);
  const client: Client = await gs.connect(token, modern);
  const declarations = new Map((await client.listTools()).tools.map((tool) => [tool.name, toolDeclaration(JSON.parse(JSON.stringify(tool)) as never)]));
  const session = createTaskSessionFromClient(client, {
    endpointId: `baton-${user}`,
    rawDispatch: rawDispatchFor(gs.mcpUrl, token),
    v2RequestFraming: { protocolVersion: '2026-07-28', clientInfo: { name: 'baton-test-client', version: '1.0.0' }, clientCapabilities: { elicitation: { url: {} } } },
    // The tools' declarations from Baton's own list. (The helper would list them itself, but under jest its JSON
    // check fails on objects parsed in Node's realm rather than the test's: a test-environment artefact.)
    tools: { currentTool: (name) => declarations.get(name) },
    onInputRequest: async (request) => {
      const params = request.params as { mode?: string; url?: string };
      if (request.kind !== 'elicitation' || params.mode !== 'url') throw new Error(`unexpected input request ${JSON.stringify(request)}`);
      await onConsent(params.url!);
      return { action: 'accept' } as never;
    },
  });
  return { token, client, session, raw: rawDispatchFor(gs.mcpUrl, token) };
}

const statusesOf = (events: TaskExecutionEvent<unknown>[]) => events.flatMap((event) => (event.type === 'task' ? [event.task.status] : [])).filter((status, index, all) => status !== all[index - 1]);

test('2026-07-28: triage as a task with nothing connected — input_required with Baton’s consent links, consent in the browser, working, completed with the result', async () => {
  const consented: string[] = [];
  const { session, client, raw } = await taskSession('alice', async (url) => {
    consented.push(url);
    await gs.consentInBrowser(url, 'alice');
  });
  console.log(
    'RAW',
    JSON.stringify(
      await raw({
        method: 'tools/call',
        params: {
          name: 'probe_identity',
          arguments: {},
          _meta: { ...optIn, 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'x', version: '1' } },
        },
      }),
    ),
  );
  const execution = await session.callTool('triage_pull_request', { repo: 'acme/widgets', number: 1 });
  expect(execution.kind).toBe('task');
  const taskId = execution.kind === 'task' ? execution.handle.taskId : '';
  expect(taskId).toMatch(/^triage_pull_request-/);

  // The task exists before the answer came back: tasks/get reads it at once.
  const first = await raw({ method: 'tasks/get', params: { taskId, _meta: optIn } });
  expect(first).toMatchObject({ kind: 'result', result: { resultType: 'complete', taskId, ttlMs: 86_400_000, pollIntervalMs: 100 } });

  const events: TaskExecutionEvent<unknown>[] = [];
  const { outcome } = await execution.settle({ onEvent: (event) => void events.push(event) });
  expect(outcome.status).toBe('completed');
  const result = CallToolResultV2Schema.parse((outcome as { result: unknown }).result) as { structuredContent?: Record<string, unknown>; isError?: boolean };
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ title: expect.any(String), jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  // Both apps' links were Baton's own /connect pages, each followed once.
  expect(consented.map((url) => new URL(url).pathname)).toEqual([expect.stringMatching(/^\/connect\/[\w-]+$/), expect.stringMatching(/^\/connect\/[\w-]+$/)]);
  expect(statusesOf(events)).toEqual(expect.arrayContaining(['input_required', 'completed']));
  await session.close();
  await client.close();
}, 120_000);
