/**
 * Issue 13, bad input and failure: an upstream that is down, slow, malformed, huge, that drops a tool
 * (also under a paused run), that refuses a user's token or its refresh; Baton's own answers for a tool
 * with a strict output schema. Each ends in a clear error or a consent prompt, never a leak or a hang.
 */
import type { Client } from '@modelcontextprotocol/client';
import { freePort } from '../scripts/free-port.ts';
import { gatewayStackForSuite, type DemoUserName, type GatewayStack } from './support/gateway-stack.ts';
import { sandboxControl } from './support/sandbox-controls.ts';
import { notesUpstreamYaml, statusUpstreamYaml, upstreamEnv } from './support/upstreams.ts';

let gs: GatewayStack;
let downPort: number;
beforeAll(async () => {
  // Nothing listens here: the "down" upstream (before the stack starts, which writes it into baton.yaml).
  downPort = await freePort();
});
gatewayStackForSuite((started) => (gs = started), {
  config: (sandbox) => ({
    yaml: `mcpServers:
${notesUpstreamYaml(sandbox, ['timeoutSeconds: 1', 'maxResultBytes: 65536'])}${statusUpstreamYaml(sandbox)}  down:
    url: http://127.0.0.1:${downPort}/mcp
    credential: { mode: none }
servers:
  default:
    tools: "*"
    access: { users: ["*"] }
roles:
  alice: owner
`,
    env: upstreamEnv(sandbox),
  }),
});

const modern = { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } } as const;

/** A 2026-07-28 client whose user opens every consent link in the browser (unless `consent` says not to). */
async function modernClient(user: DemoUserName, prompts: string[] = [], consent = true): Promise<Client> {
  const client = await gs.connect(await gs.tokenFor(user), modern);
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { message: string; url: string };
    prompts.push(params.message);
    if (!consent) return { action: 'decline' };
    await gs.consentInBrowser(params.url, user);
    return { action: 'accept' };
  });
  return client;
}

const textOf = (result: { content?: unknown }) => ((result.content as { type: string; text?: string }[]) ?? []).map((block) => block.text ?? '').join('\n');

/** Alice connected to Notes once for the whole suite (her first call asks). */
let alice: Client;
beforeAll(async () => {
  alice = await modernClient('alice');
  expect((await alice.callTool({ name: 'notes__whoami', arguments: {} })).structuredContent).toMatchObject({ user: 'alice' });
}, 120_000);
afterAll(async () => alice?.close());

test('an upstream that is down is left out of tools/list, the others are listed, and admins see why', async () => {
  const { tools } = await alice.listTools();
  const names = tools.map((tool) => tool.name);
  expect(names).toEqual(expect.arrayContaining(['notes__whoami', 'status__service_status', 'triage_pull_request']));
  expect(names.some((name) => name.startsWith('down__'))).toBe(false);
  const response = await fetch(`${gs.url}/admin/upstreams`, { headers: { Authorization: `Bearer ${await gs.tokenFor('alice')}` } });
  const { upstreams } = (await response.json()) as { upstreams: { id: string; reachable: boolean | null; lastError: string | null }[] };
  expect(upstreams.find((upstream) => upstream.id === 'down')).toMatchObject({ reachable: false, lastError: expect.stringContaining(`Could not reach down at http://127.0.0.1:${downPort}/mcp`) });
});

test('a slow upstream: the call ends with a clear timeout and is not sent again (MCP has no idempotency key)', async () => {
  await sandboxControl(gs.stack.sandbox.url, '/delay', { app: 'notes', pathPrefix: '/notes/tools/create_note', ms: 3000, times: 5 });
  const result = await alice.callTool({ name: 'notes__create_note', arguments: { title: 'slow', body: 'x' } });
  expect(result.isError).toBe(true);
  expect(textOf(result)).toContain('notes did not answer within 1 s');
});

test('an answer that is not JSON-RPC fails the call with a clear error', async () => {
  await sandboxControl(gs.stack.sandbox.url, '/notes/malformed', { enabled: true });
  try {
    const result = await alice.callTool({ name: 'notes__list_notes', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/notes answered (something that is not MCP|with an error|HTTP)/);
  } finally {
    await sandboxControl(gs.stack.sandbox.url, '/notes/malformed', { enabled: false });
  }
});

test('an answer larger than maxResultBytes is cut off with a clear error', async () => {
  await sandboxControl(gs.stack.sandbox.url, '/notes/huge', { megabytes: 1 });
  try {
    const result = await alice.callTool({ name: 'notes__list_notes', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("notes's answer is larger than 65536 bytes (mcpServers.notes.maxResultBytes); nothing was passed on.");
  } finally {
    await sandboxControl(gs.stack.sandbox.url, '/notes/huge', { megabytes: 0 });
  }
});

test('a tool removed while a run waits for consent: the resumed run fails clearly instead of calling it', async () => {
  const prompts: string[] = [];
  const bob = await gs.connect(await gs.tokenFor('bob'), { ...modern, inputRequired: { autoFulfill: false } });
  const paused = (await bob.callTool({ name: 'notes__whoami', arguments: {} }, { allowInputRequired: true })) as unknown as {
    resultType?: string;
    inputRequests?: Record<string, { params?: { url?: string } }>;
  };
  expect(paused.resultType).toBe('input_required');
  const link = Object.values(paused.inputRequests ?? {})[0]?.params?.url;
  expect(link).toMatch(new RegExp(`^${gs.url}/connect/`));
  await sandboxControl(gs.stack.sandbox.url, '/notes/tools', { tool: 'whoami', enabled: false });
  try {
    await gs.consentInBrowser(link!, 'bob');
    const again = await modernClient('bob', prompts);
    const result = await again.callTool({ name: 'get_run_result', arguments: { runId: await latestRunOf('bob', 'notes__whoami') } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('Notes has no tool "whoami" (it may have been removed)');
    await again.close();
  } finally {
    await sandboxControl(gs.stack.sandbox.url, '/notes/tools', { tool: 'whoami', enabled: true });
  }
  await bob.close();
}, 120_000);

test('the upstream refusing a connected user’s token (its own challenge) becomes a consent prompt, and connecting again resumes', async () => {
  await sandboxControl(gs.stack.sandbox.url, '/notes/challenge', { user: 'alice', enabled: true });
  const prompts: string[] = [];
  const client = await gs.connect(await gs.tokenFor('alice'), modern);
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { message: string; url: string };
    prompts.push(params.message);
    // The user fixes things at the upstream, then connects again.
    await sandboxControl(gs.stack.sandbox.url, '/notes/challenge', { user: 'alice', enabled: false });
    await gs.consentInBrowser(params.url, 'alice');
    return { action: 'accept' };
  });
  const result = await client.callTool({ name: 'notes__whoami', arguments: {} });
  expect(result.structuredContent).toMatchObject({ user: 'alice' });
  expect(prompts).toHaveLength(1);
  expect(prompts[0]).toContain('Notes');
  // The prompt never carries the upstream's own URLs: only Baton's link.
  expect(prompts[0]).not.toContain(gs.stack.sandbox.notesMcpUrl);
  await client.close();
}, 120_000);

test('a refresh the upstream refuses asks the user to connect again', async () => {
  const prompts: string[] = [];
  const carol = await modernClient('carol', prompts);
  try {
    expect((await carol.callTool({ name: 'notes__whoami', arguments: {} })).structuredContent).toMatchObject({ user: 'carol' });
    // Carol removes Baton's access at Notes, and her access token has expired (as if an hour had passed), so Baton must refresh.
    await sandboxControl(gs.stack.sandbox.url, '/revoke-user-grants', { app: 'notes', user: 'carol' });
    await gs.stack.stores.db.run("UPDATE vault_connections SET expires_at = ? WHERE subject = 'carol' AND app = 'notes'", Date.now() - 1);
    const result = await carol.callTool({ name: 'notes__whoami', arguments: {} });
    expect(result.structuredContent).toMatchObject({ user: 'carol' });
    expect(prompts).toHaveLength(2);
    const trail = await gs.stack.stores.audit.query({ kind: 'connection.refresh_failed', limit: 5 });
    expect(trail.some((record) => record.app === 'notes' && record.actor?.subject === 'carol')).toBe(true);
  } finally {
    await carol.close();
  }
}, 120_000);

test('Baton’s own answers for a tool with a strict output schema are isError results, so clients’ schema checks pass', async () => {
  // A 2025-era client without elicitation gets the text + structured consent answer; the client checks
  // non-error results against notes__create_note's outputSchema, which Baton's answer does not match.
  const client = await gs.connect(await gs.tokenFor('dave'));
  const { tools } = await client.listTools();
  expect(tools.find((tool) => tool.name === 'notes__create_note')?.outputSchema).toBeDefined();
  const result = await client.callTool({ name: 'notes__create_note', arguments: { title: 't', body: 'b' } });
  expect(result.isError).toBe(true);
  expect(result.structuredContent).toMatchObject({ status: 'auth_required', authorizationUrls: { notes: expect.stringMatching(new RegExp(`^${gs.url}/connect/`)) } });
  await client.close();
});

async function latestRunOf(subject: string, tool: string): Promise<string> {
  const runs = await gs.stack.stores.db.all<{ workflow_id: string }>('SELECT workflow_id FROM gateway_runs WHERE subject = ? AND tool = ? ORDER BY created_at DESC LIMIT 1', subject, tool);
  return runs[0]!.workflow_id;
}
