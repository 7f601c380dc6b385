/** Deny by default: access lists per MCP server and per tool, run-time grants, virtual servers, roles. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ApiTokenStore } from '../core/api-tokens/api-token-store.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp, toolsCall } from './support/mcp-http.ts';
import { runsOf } from './support/runs.ts';

const config = `
servers:
  default:
    tools: "*"
    access:
      users: [alice]
      apiTokens: [ci]
  triage:
    tools: [triage_pull_request]
    access:
      groups: [engineering]
tools:
  open_ops_ticket:
    access: { users: [alice], apiTokens: [ci] }
roles:
  bob: admin
  alice: viewer
  carol: contributor
`;

let gs: GatewayStack;

gatewayStackForSuite((started) => (gs = started), { config });

const list = async (token: string, url = gs.mcpUrl) =>
  (await postMcp(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${token}` })).json.result.tools.map((t: { name: string }) => t.name).sort();
const call = (token: string, name: string, args: unknown, url = gs.mcpUrl) => postMcp(url, toolsCall(name, args), { authorization: `Bearer ${token}` });

function batonAccess(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fileURLToPath(new URL('../bin/baton.js', import.meta.url)), 'access', ...args], { env: gs.gatewayEnv }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('a user not on the list (even with an admin role) sees no tool and cannot call one by name; nothing starts', async () => {
  const bob = await gs.tokenFor('bob');
  expect(await list(bob)).toEqual([]);
  const refused = await call(bob, 'read_pull_request', { repo: 'acme/widgets', number: 1 });
  expect(refused.json.error).toEqual({
    code: -32602,
    message: 'You are not on the access list for "read_pull_request" on the MCP server "default". Ask an admin to add you (baton access add default user bob).',
  });
  expect(await runsOf(gs.stack, 'read_pull_request')).toEqual([]);
});

test('adding the user takes effect on the next call, and removing them too, without a restart', async () => {
  const bob = await gs.tokenFor('bob');
  const added = await batonAccess('add', 'default', 'user', 'bob');
  expect(added.stdout).toContain('Added user bob to default');
  expect(await list(bob)).toEqual(expect.arrayContaining(['read_pull_request', 'triage_pull_request', 'get_run_result']));
  expect(await list(bob)).not.toContain('open_ops_ticket'); // that tool's own list names alice and ci only
  const paused = await call(bob, 'read_pull_request', { repo: 'acme/widgets', number: 1 });
  expect(paused.json.result.structuredContent).toMatchObject({ status: 'auth_required' });

  expect((await batonAccess('list', 'default')).stdout).toMatch(/users alice, bob/);
  expect((await batonAccess('remove', 'default', 'user', 'bob')).stdout).toContain('Removed user bob');
  expect(await list(bob)).toEqual([]);
  expect(await batonAccess('remove', 'default', 'user', 'alice')).toMatchObject({ status: 1, stderr: expect.stringContaining('granted by') });
});

test('a per-tool list narrows the server list', async () => {
  const alice = await gs.tokenFor('alice');
  expect(await list(alice)).toContain('open_ops_ticket');
  const { token: other } = await new ApiTokenStore(gs.stack.stores.db).create('other', { tenant: 'acme' });
  expect(await list(other)).toEqual([]);
  const { token: ci } = await new ApiTokenStore(gs.stack.stores.db).create('ci', { tenant: 'acme' });
  expect(await list(ci)).toEqual(['get_run_result', 'open_ops_ticket', 'probe_formats']);
});

test('a virtual server exposes exactly its subset, to its own list, at its own URL and resource', async () => {
  const triageUrl = `${gs.url}/mcp/triage`;
  const aliceHere = await gs.tokenFor('alice', undefined, triageUrl);
  expect(await list(aliceHere, triageUrl)).toEqual(['get_run_result', 'triage_pull_request']);
  const notHere = await call(aliceHere, 'read_pull_request', { repo: 'acme/widgets', number: 1 }, triageUrl);
  expect(notHere.json.error.message).toBe('Unknown tool "read_pull_request". Call tools/list to see the tools you may run.');

  expect(await list(await gs.tokenFor('bob', undefined, triageUrl), triageUrl)).toEqual([]); // bob is in support, not engineering

  // A token for /mcp is not a token for /mcp/triage: each server is its own resource.
  const wrongAudience = await postMcp(triageUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${await gs.tokenFor('alice')}` });
  expect(wrongAudience.status).toBe(401);
  const metadata = await (await fetch(`${gs.url}/.well-known/oauth-protected-resource/mcp/triage`)).json();
  expect(metadata).toMatchObject({ resource: triageUrl });
});

const admin = async (token: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${gs.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
};

test('the admin API: admins change access lists and API tokens, viewers only read, callers without a role get 403', async () => {
  const bob = await gs.tokenFor('bob'); // admin role, not on any access list
  const alice = await gs.tokenFor('alice'); // viewer role

  expect(await admin(alice, 'GET', '/servers')).toMatchObject({
    status: 200,
    json: { servers: expect.arrayContaining([expect.objectContaining({ name: 'triage', tools: ['triage_pull_request'] })]) },
  });
  const refused = await admin(alice, 'POST', '/servers/default/access', { kind: 'user', value: 'bob' });
  expect(refused).toEqual({
    status: 403,
    json: { error: 'forbidden', message: 'Changing access lists needs the owner or admin role; alice has the viewer role (roles are set in the configuration file).' },
  });

  // An admin role grants managing access, not running tools: bob adds himself, and only then can run.
  expect(await list(bob)).toEqual([]);
  expect(await admin(bob, 'POST', '/servers/default/access', { kind: 'user', value: 'bob' })).toMatchObject({ status: 201, json: { access: { users: ['alice', 'bob'] } } });
  expect(await list(bob)).toContain('read_pull_request');
  expect(await admin(bob, 'DELETE', '/servers/default/access/user/bob')).toMatchObject({ status: 200 });
  expect(await list(bob)).toEqual([]);
  expect((await admin(bob, 'DELETE', '/servers/default/access/user/alice')).json.message).toContain('entries from the configuration file are changed there');
  expect((await admin(bob, 'POST', '/servers/nope/access', { kind: 'user', value: 'x' })).status).toBe(404);
  expect((await admin(bob, 'POST', '/servers/default/access', { kind: 'robot', value: 'x' })).status).toBe(400);

  const created = await admin(bob, 'POST', '/api-tokens', { name: 'release-bot', tenant: 'acme' });
  expect(created).toMatchObject({ status: 201, json: { name: 'release-bot', token: expect.stringMatching(/^baton_/) } });
  expect((await admin(bob, 'GET', '/api-tokens')).json.apiTokens).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'release-bot', revokedAt: null })]));
  expect(JSON.stringify((await admin(bob, 'GET', '/api-tokens')).json)).not.toContain(created.json.token);
  expect((await admin(alice, 'GET', '/api-tokens')).status).toBe(403);
  expect(await admin(bob, 'DELETE', '/api-tokens/release-bot')).toMatchObject({ status: 200 });
  expect((await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${created.json.token}` })).status).toBe(401);

  const anonymous = await fetch(`${gs.url}/admin/servers`);
  expect(anonymous.status).toBe(401);
  const { token: service } = await new ApiTokenStore(gs.stack.stores.db).create('admin-wannabe', { tenant: 'acme' });
  expect((await admin(service, 'GET', '/servers')).json.message).toContain('admin-wannabe has no role');
});

test("contributors edit tool settings (a tool's own access list), not server lists; viewers edit nothing", async () => {
  const carol = await gs.tokenSignedFor('carol');
  const bob = await gs.tokenFor('bob');
  const alice = await gs.tokenFor('alice');
  await admin(bob, 'POST', '/servers/default/access', { kind: 'user', value: 'bob' });
  expect(await list(bob)).toContain('triage_pull_request');

  expect((await admin(carol, 'POST', '/servers/default/access', { kind: 'user', value: 'carol' })).status).toBe(403);
  expect((await admin(alice, 'POST', '/tools/triage_pull_request/access', { kind: 'user', value: 'alice' })).status).toBe(403);
  const narrowed = await admin(carol, 'POST', '/tools/triage_pull_request/access', { kind: 'user', value: 'alice' });
  expect(narrowed).toMatchObject({ status: 201, json: { access: { users: ['alice'] } } });
  expect(await list(bob)).not.toContain('triage_pull_request'); // the tool's own list now names alice only
  expect(await list(bob)).toContain('read_pull_request');
  expect(await list(alice)).toContain('triage_pull_request');
  expect((await admin(carol, 'GET', '/tools')).json.tools).toEqual(expect.arrayContaining([{ name: 'triage_pull_request', access: { users: ['alice'], groups: [], apiTokens: [] } }]));

  expect((await admin(carol, 'DELETE', '/tools/triage_pull_request/access/user/alice')).status).toBe(200);
  expect(await list(bob)).toContain('triage_pull_request');
  await admin(bob, 'DELETE', '/servers/default/access/user/bob');
});
