/**
 * Issue 13: upstream MCP servers through Baton, end to end with real clients, the sandbox's two upstream
 * servers (notes: OAuth per the MCP authorization spec; status: an organisation API key), a real worker
 * and gateway. Each user's upstream calls carry that user's own token; nothing reaches Temporal history.
 */
import type { Client } from '@modelcontextprotocol/client';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CookieKeepingClient } from '../sandbox/browserless-consent.ts';
import type { LoggedRequest } from '../sandbox/server.ts';
import { gatewayStackForSuite, type DemoUserName, type GatewayStack } from './support/gateway-stack.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { runsOf } from './support/runs.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';
import { until } from './support/until.ts';
import { notesUpstreamYaml, statusUpstreamYaml, upstreamEnv } from './support/upstreams.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), {
  config: (sandbox) => ({
    yaml: `mcpServers:
${notesUpstreamYaml(sandbox)}${statusUpstreamYaml(sandbox, ['displayName: Status page', 'protocol: legacy'])}servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
  notes:
    tools: ["notes__*"]
    access: { users: [alice] }
roles:
  alice: owner
`,
    env: upstreamEnv(sandbox),
  }),
});

const modern = { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } } as const;

/** A 2026-07-28 client whose user completes every URL elicitation in the browser; `asked` collects the prompts. */
async function modernClient(user: DemoUserName, asked: { message: string; url: string }[] = [], mcpUrl?: string): Promise<Client> {
  const client = await gs.connect(await gs.tokenFor(user, undefined, mcpUrl), modern, mcpUrl);
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { mode: string; message: string; url: string };
    asked.push(params);
    await gs.consentInBrowser(params.url, user);
    return { action: 'accept' };
  });
  return client;
}

async function notesRequestsSince(seq: number): Promise<LoggedRequest[]> {
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=notes&since=${seq}`)) as { requests: LoggedRequest[] };
  return requests;
}

test('alice, with nothing connected, lists the upstream tools and calls one: a consent link, Notes’ own sign-in (registration discovered), the result', async () => {
  const asked: { message: string; url: string }[] = [];
  const client = await modernClient('alice', asked);
  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['notes__create_note', 'notes__list_notes', 'notes__whoami', 'status__service_status']));
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const result = await client.callTool({ name: 'notes__whoami', arguments: {} });
  expect(result.structuredContent).toMatchObject({ user: 'alice' });
  expect(asked).toHaveLength(1);
  expect(asked[0]!.url).toMatch(new RegExp(`^${gs.url}/connect/`));
  // Baton registered itself with the notes authorization server (it offers client ID metadata documents too,
  // which need an https or loopback client id: Baton's public URL here is loopback, so that is what it used).
  const calls = (await notesRequestsSince(since)).filter((request) => request.path.includes('/mcp') && request.credential.valid);
  expect(new Set(calls.map((request) => request.credential.user))).toEqual(new Set(['alice']));
  // Notes offers 2026-07-28, so Baton (protocol: auto) speaks it there.
  expect(new Set(calls.map((request) => request.headers['mcp-protocol-version']))).toEqual(new Set(['2026-07-28']));
  await client.close();
}, 120_000);

test('a composite tool three levels deep asks for GitHub, Slack and Notes at once, then files the note as the caller', async () => {
  const asked: { message: string; url: string }[] = [];
  const client = await modernClient('dave', asked);
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const result = await client.callTool({ name: 'note_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ noteId: expect.any(String), noteOwner: 'dave', slackChannel: expect.any(String) });
  // One answer asked for all three, each through Baton's own link; Notes' authorization server was discovered, not configured.
  expect(asked).toHaveLength(3);
  expect(asked.map((prompt) => prompt.message).join(' ')).toMatch(/GitHub/);
  expect(asked.map((prompt) => prompt.message).join(' ')).toMatch(/Notes/);
  expect(asked.every((prompt) => prompt.url.startsWith(`${gs.url}/connect/`))).toBe(true);
  const toNotes = (await notesRequestsSince(since)).filter((request) => request.path.includes('/mcp') && request.method === 'POST' && request.credential.valid);
  expect(toNotes.length).toBeGreaterThan(0);
  expect(new Set(toNotes.map((request) => request.credential.user))).toEqual(new Set(['dave']));
  await client.close();
}, 120_000);

test('tools/list shows the upstreams’ tools under <id>__<tool> with their schemas and annotations', async () => {
  const client = await modernClient('alice');
  const { tools } = await client.listTools();
  const createNote = tools.find((tool) => tool.name === 'notes__create_note');
  expect(createNote).toMatchObject({
    inputSchema: { type: 'object', properties: { title: expect.any(Object), body: expect.any(Object) } },
    outputSchema: expect.any(Object),
    annotations: expect.any(Object),
  });
  expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['notes__list_notes', 'notes__whoami', 'status__service_status', 'note_pull_request', 'triage_pull_request']));
  await client.close();
  // A virtual server listing only notes__*: exactly the upstream's tools (and get_run_result).
  const notesUrl = `${gs.url}/mcp/notes`;
  const onlyNotes = await gs.connect(await gs.tokenFor('alice', undefined, notesUrl), {}, notesUrl);
  const names = (await onlyNotes.listTools()).tools.map((tool) => tool.name);
  expect(names.filter((name) => name !== 'get_run_result').every((name) => name.startsWith('notes__'))).toBe(true);
  expect(names).toContain('notes__create_note');
  await onlyNotes.close();
});

test('an upstream tool called directly runs as a Baton run and answers the upstream’s result unchanged', async () => {
  const client = await modernClient('alice');
  const before = await runsOf(gs.stack, 'notes__create_note');
  const result = await client.callTool({ name: 'notes__create_note', arguments: { title: 'Direct', body: 'through Baton' } });
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ title: 'Direct', body: 'through Baton', owner: 'alice' });
  expect(result.content).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'text' })]));
  expect(await runsOf(gs.stack, 'notes__create_note')).toHaveLength(before.length + 1);
  // A tool-level error stays a tool-level error.
  const soft = await client.callTool({ name: 'notes__fail_softly', arguments: {} });
  expect(soft.isError).toBe(true);
  // One audit record per upstream call, naming person, upstream, tool and whose credential.
  const runId = String((result._meta as Record<string, unknown>)['baton/runId']);
  const [call] = (await gs.stack.stores.audit.forRun(runId)).filter((record) => record.kind === 'app_call');
  expect(call).toMatchObject({
    app: 'notes',
    action: 'create_note',
    outcome: 'ok',
    actor: expect.objectContaining({ subject: 'alice' }),
    credential: expect.objectContaining({ owner: 'user', reason: 'mcpServers.notes.credential: user_oauth' }),
  });
  await client.close();
});

test('bob with nothing connected: a consent link, the browser through Notes’ own sign-in, and his call carries his token', async () => {
  const asked: { message: string; url: string }[] = [];
  const client = await modernClient('bob', asked);
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const result = await client.callTool({ name: 'notes__whoami', arguments: {} });
  expect(result.structuredContent).toMatchObject({ user: 'bob' });
  expect(asked).toHaveLength(1);
  expect(asked[0]!.message).toContain('Notes');
  const calls = (await notesRequestsSince(since)).filter((request) => request.path.includes('/mcp') && request.credential.valid);
  expect(new Set(calls.map((request) => request.credential.user))).toEqual(new Set(['bob']));
  await client.close();
}, 120_000);

test('a 2025-era client gets -32042 with the consent link and its retry gets the upstream’s result', async () => {
  const client = await gs.connect(await gs.tokenFor('carol'), { capabilities: { elicitation: { url: {} } } });
  const first = await client.callTool({ name: 'notes__whoami', arguments: {} }).then(
    () => undefined,
    (error: { code: number; data: { elicitations: { url: string }[] } }) => error,
  );
  expect(first?.code).toBe(-32042);
  expect(first!.data.elicitations).toHaveLength(1);
  await gs.consentInBrowser(first!.data.elicitations[0]!.url, 'carol');
  const result = await client.callTool({ name: 'notes__whoami', arguments: {} });
  expect(result.structuredContent).toMatchObject({ user: 'carol' });
  await client.close();
}, 120_000);

test('the organisation’s API key upstream needs no connection, and the upstream saw the key', async () => {
  const client = await gs.connect(await gs.tokenFor('bob'));
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const result = await client.callTool({ name: 'status__service_status', arguments: { service: 'api' } });
  expect(result.structuredContent).toMatchObject({ service: 'api', checkedBy: 'api-key' });
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=status&since=${since}`)) as { requests: LoggedRequest[] };
  expect(requests.some((request) => request.credential.valid && request.credential.user === 'api-key')).toBe(true);
  // protocol: legacy — the 2025 handshake and headers.
  expect(requests.filter((request) => request.credential.valid).every((request) => /^2025-/.test(request.headers['mcp-protocol-version'] ?? '2025-initialize'))).toBe(true);
  await client.close();
});

test('arguments that break the upstream tool’s schema are refused before any run starts or the upstream is called', async () => {
  const client = await modernClient('alice');
  const before = await runsOf(gs.stack, 'notes__create_note');
  const since = await lastLogSeq(gs.stack.sandbox.url);
  await expect(client.callTool({ name: 'notes__create_note', arguments: { title: 42 } })).rejects.toMatchObject({
    code: -32602,
    message: expect.stringContaining('Invalid arguments for "notes__create_note"'),
  });
  expect(await runsOf(gs.stack, 'notes__create_note')).toEqual(before);
  expect((await notesRequestsSince(since)).filter((request) => request.path.includes('/mcp'))).toEqual([]);
  await client.close();
});

test('an unknown upstream tool is an unknown tool', async () => {
  const client = await modernClient('alice');
  await expect(client.callTool({ name: 'notes__no_such_tool', arguments: {} })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('Unknown tool "notes__no_such_tool"') });
  await client.close();
});

test('a tool the upstream adds shows in Baton’s tools/list at once (its list_changed), and Baton’s own listening clients are told', async () => {
  const announced: string[] = [];
  const listening = await gs.connect(await gs.tokenFor('alice'), {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
    listChanged: { tools: { autoRefresh: false, onChanged: () => void announced.push('tools') } },
  });
  expect((await listening.listTools()).tools.map((tool) => tool.name)).not.toContain('notes__archive_note');
  await sandboxControl(gs.stack.sandbox.url, '/notes/tools', { tool: 'archive_note', enabled: true });
  try {
    // Well before the list's cache time (toolsCacheSeconds, 300 s): the upstream's notification refreshed it.
    await until('notes__archive_note listed', async () => ((await listening.listTools()).tools.some((tool) => tool.name === 'notes__archive_note') ? true : undefined), 10_000);
    await until("Baton's list_changed reached its client", () => (announced.length > 0 ? true : undefined), 10_000);
  } finally {
    await sandboxControl(gs.stack.sandbox.url, '/notes/tools', { tool: 'archive_note', enabled: false });
    await listening.close();
  }
});

test('the connections page lists Notes next to the apps; revoking it makes the next call ask again', async () => {
  const token = await gs.tokenFor('alice');
  const revoked = await fetch(`${gs.url}/api/connections/notes`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  expect(revoked.status).toBe(200);
  const browser = new CookieKeepingClient();
  const prompts: string[] = [];
  const client = await gs.connect(await gs.tokenFor('alice'), modern);
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { message: string; url: string };
    prompts.push(params.message);
    await gs.consentInBrowser(params.url, 'alice', 'approve', browser);
    return { action: 'accept' };
  });
  expect((await client.callTool({ name: 'notes__whoami', arguments: {} })).structuredContent).toMatchObject({ user: 'alice' });
  expect(prompts).toHaveLength(1);
  await client.close();
  const connections = (await fetch(`${gs.url}/api/connections`, { headers: { Authorization: `Bearer ${token}` } }).then((response) => response.json())) as {
    connections: { app: string; status: string }[];
  };
  expect(connections.connections).toEqual(expect.arrayContaining([expect.objectContaining({ app: 'notes', status: 'active' })]));
  // The same browser, signed in to Baton by the consent, opens the connections page.
  const page = await (await browser.fetch(`${gs.url}/account/connections`)).text();
  expect(page).toContain('Notes');
  expect(page).toContain('GitHub');
}, 120_000);

test('admins see each upstream’s status', async () => {
  const response = await fetch(`${gs.url}/admin/upstreams`, { headers: { Authorization: `Bearer ${await gs.tokenFor('alice')}` } });
  const body = (await response.json()) as { upstreams: { id: string; reachable: boolean | null; toolsCached: number }[] };
  expect(response.status).toBe(200);
  expect(body.upstreams).toEqual(
    expect.arrayContaining([expect.objectContaining({ id: 'notes', reachable: true, toolsCached: expect.any(Number) }), expect.objectContaining({ id: 'status', reachable: true })]),
  );
});

test('`baton upstreams` prints each upstream’s state for an admin, and refuses a user without a role', async () => {
  const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));
  const run = (token: string) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [baton, 'upstreams', '--url', gs.url, '--token', token], { env: { ...gs.gatewayEnv } }, (error, stdout, stderr) => {
        resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });
  const alice = await run(await gs.tokenFor('alice'));
  expect(alice.status).toBe(0);
  expect(alice.stdout).toMatch(new RegExp(`^notes +reachable, \\d+ tools cached, tools fetched .+ {2}${gs.stack.sandbox.notesMcpUrl}$`, 'm'));
  expect(alice.stdout).toMatch(/^status +reachable, 2 tools cached/m);
  const bob = await run(await gs.tokenFor('bob'));
  expect(bob.status).toBe(1);
  expect(bob.stderr).toContain('Reading the upstream MCP servers needs the owner or admin or viewer role; bob has no role');
});

test('no upstream token, code or key reached Temporal history', async () => {
  await expectNoSecretsInHistories(gs.stack);
});
