/**
 * Outbound credential modes through the full stack (MCP client → gateway → Temporal → worker → CRM):
 * for each mode the sandbox CRM's request log shows exactly which credential arrived, and nothing else.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { randomBytes } from 'node:crypto';
import { ApiTokenStore } from '../core/api-tokens/api-token-store.ts';
import type { LoggedRequest, RunningSandbox } from '../sandbox/server.ts';
import { GatewayStack } from './support/gateway-stack.ts';
import { postMcp } from './support/mcp-http.ts';
import { alice } from './support/identities.ts';
import { crmProbes } from './fixtures/probe-tools.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

let gs: GatewayStack;
let crm: RunningSandbox['crm'];
const partnerKey = `pk_${randomBytes(12).toString('hex')}`;

/** One tool per mode (test/fixtures/probe-tools.ts); the file sets each tool's CRM credential. */
const config = (sandbox: RunningSandbox) => {
  const client = sandbox.crm.clients[0]!;
  return {
    yaml: `
apps:
  crm:
    credential: { mode: bearer, token: env:CRM_INTEGRATION_TOKEN }
    allowHeaderOverride: true
    headers:
      - { name: X-Baton-User, from: caller_identity, field: subject }
      - { name: X-Baton-Email, from: caller_identity, field: email }
      - { name: X-Source, from: static, value: baton-tests }
      - { name: X-Service-Token, from: service_token, tokenUrl: ${sandbox.url}/crm/oauth/token, clientId: env:CRM_CLIENT_ID, clientSecret: env:CRM_CLIENT_SECRET }
      - { name: X-Partner-Key, from: vault, credential: partner-key }
  jira:
    credential: { mode: service_account, reason: "Tickets are filed by the ops service account" }
tools:
  crm_probe_none:
    credentials: { crm: { mode: none } }
  crm_probe_basic:
    credentials: { crm: { mode: basic, username: env:CRM_SERVICE_USER, password: file:crm-service-password } }
  crm_probe_api_key_header:
    credentials: { crm: { mode: api_key, in: header, name: X-Api-Key, scope: shared, key: env:CRM_ORG_KEY } }
  crm_probe_api_key_query:
    credentials: { crm: { mode: api_key, in: query, name: api_key, scope: shared, key: env:CRM_ORG_KEY } }
  crm_probe_client_credentials:
    credentials: { crm: { mode: client_credentials, clientId: env:CRM_CLIENT_ID, clientSecret: env:CRM_CLIENT_SECRET, scopes: [customers:read, notes:write] } }
  probe_identity:
    credentials: { github: { mode: none } }
  crm_probe_passthrough:
    credentials: { crm: { mode: passthrough, trustedIssuers: [${sandbox.idpIssuer}] } }
  crm_probe_passthrough_untrusted:
    credentials: { crm: { mode: passthrough, trustedIssuers: ["https://idp.elsewhere.example"] } }
  crm_probe_token_exchange:
    credentials: { crm: { mode: token_exchange, tokenUrl: ${sandbox.idpIssuer}/token, clientId: env:BATON_IDP_CLIENT_ID, clientSecret: env:BATON_IDP_CLIENT_SECRET, resource: ${sandbox.crm.resource} } }
restrictedHeaders: ["x-internal-*"]
servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
`,
    env: {
      CRM_INTEGRATION_TOKEN: sandbox.crm.integrationToken,
      CRM_SERVICE_USER: sandbox.crm.serviceAccount.username,
      CRM_ORG_KEY: sandbox.crm.organisationApiKey,
      CRM_CLIENT_ID: client.clientId,
      CRM_CLIENT_SECRET: client.clientSecret,
    },
    files: { 'crm-service-password': sandbox.crm.serviceAccount.password },
  };
};

beforeAll(async () => {
  gs = await GatewayStack.start({ config });
  crm = gs.stack.sandbox.crm;
  // An organisation-wide credential an administrator stored in the vault, for the X-Partner-Key header.
  await gs.stack.stores.vault.putServiceCredential('partner-key', { token: partnerKey });
}, 120_000);

afterAll(async () => {
  await gs?.close();
});

/** Runs the mode's probe tool as alice and returns what the CRM logged for its two API calls. */
async function probe(mode: string, token?: string): Promise<{ result: unknown; calls: LoggedRequest[] }> {
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const client = await gs.connect(token ?? (await gs.tokenFor('alice')));
  const answer = await client.callTool({ name: `crm_probe_${mode}`, arguments: {} });
  await client.close();
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
  return { result: answer.structuredContent ?? answer.content, calls: requests.filter((r) => r.path.startsWith('/api/')) };
}

const never = ['cookie', 'x-internal-secret'];

test('bearer (the app default): the integration token, and only it', async () => {
  const { result, calls } = await probe('bearer');
  expect(result).toEqual({ customer: 'Acme Corp', noteAuthor: 'integration' });
  expect(calls).toHaveLength(2);
  for (const call of calls) {
    expect(call.credential).toMatchObject({ kind: 'bearer_static', presented: crm.integrationToken, user: 'integration' });
    expect(call.headers.authorization).toBe(`Bearer ${crm.integrationToken}`);
    for (const header of never) expect(call.headers[header]).toBeUndefined();
  }
});

test('basic: the service user and password from a file reference', async () => {
  const { result, calls } = await probe('basic');
  expect(result).toEqual({ customer: 'Acme Corp', noteAuthor: `service:${crm.serviceAccount.username}` });
  const expected = `Basic ${Buffer.from(`${crm.serviceAccount.username}:${crm.serviceAccount.password}`).toString('base64')}`;
  for (const call of calls) expect(call.headers.authorization).toBe(expected);
});

test('API key in a header, and in a query parameter', async () => {
  const header = await probe('api_key_header');
  expect(header.result).toEqual({ customer: 'Acme Corp', noteAuthor: 'org:acme' });
  for (const call of header.calls) {
    expect(call.credential).toMatchObject({ kind: 'api_key_header', presented: crm.organisationApiKey });
    expect(call.headers['x-api-key']).toBe(crm.organisationApiKey);
    expect(call.headers.authorization).toBeUndefined();
  }
  const query = await probe('api_key_query');
  expect(query.result).toEqual({ customer: 'Acme Corp', noteAuthor: 'org:acme' });
  for (const call of query.calls) {
    expect(call.credential).toMatchObject({ kind: 'api_key_query' });
    expect(call.query.api_key).toBe(crm.organisationApiKey);
    expect(call.headers['x-api-key']).toBeUndefined();
  }
});

test('no auth: nothing at all is presented', async () => {
  const { calls } = await probe('none');
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    expect(call.headers.authorization).toBeUndefined();
    expect(call.headers['x-api-key']).toBeUndefined();
    expect(call.query.api_key).toBeUndefined();
  }
  // The CRM wants a credential for customers: with none the tool fails with the app's answer, and says so.
  const client = await gs.connect(await gs.tokenFor('alice'));
  const answer = await client.callTool({ name: 'crm_probe_none', arguments: {} });
  expect(answer.isError).toBe(true);
  expect((answer.content as { text: string }[])[0]!.text).toContain('CRM refused the credential (401');
  await client.close();
});

test('client credentials: a token from the token endpoint, fetched once and reused, owned by the client', async () => {
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const first = await probe('client_credentials');
  const second = await probe('client_credentials');
  expect(first.result).toEqual({ customer: 'Acme Corp', noteAuthor: `client:${crm.clients[0]!.clientId}` });
  const tokens = new Set([...first.calls, ...second.calls].map((call) => call.credential.presented));
  expect(tokens.size).toBe(1);
  for (const call of [...first.calls, ...second.calls]) expect(call.credential).toMatchObject({ kind: 'oauth_client' });
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
  expect(requests.filter((r) => r.path === '/oauth/token' && r.grantType === 'client_credentials')).toHaveLength(1);
});

test('passthrough: never a token that opens Baton itself, and only to an app that trusts its issuer', async () => {
  // alice's token was issued for Baton's /mcp: the CRM's operator could replay it against Baton (security, attack 1).
  const aliceToken = await gs.tokenFor('alice');
  const { result, calls } = await probe('passthrough', aliceToken);
  expect(calls).toEqual([]);
  expect(JSON.stringify(result)).toContain("Baton does not forward the caller’s own token to CRM: alice's token was issued for Baton itself");
  expect(JSON.stringify(result)).toContain('Configure credential mode token_exchange');

  const untrusted = await probe('passthrough_untrusted', aliceToken);
  expect(untrusted.calls).toEqual([]);
  expect(JSON.stringify(untrusted.result)).toContain("Baton does not forward alice's token to CRM");
});

test('token exchange (RFC 8693): a token for the CRM, naming alice, obtained by Baton from her token', async () => {
  const aliceToken = await gs.tokenFor('alice');
  const { result, calls } = await probe('token_exchange', aliceToken);
  expect(result).toEqual({ customer: 'Acme Corp', noteAuthor: 'alice' });
  for (const call of calls) {
    expect(call.credential).toMatchObject({ kind: 'idp_jwt', user: 'alice' });
    expect(call.credential.presented).not.toBe(aliceToken);
    const claims = JSON.parse(Buffer.from(call.credential.presented!.split('.')[1]!, 'base64url').toString()) as { aud: string; sub: string; act: { sub: string } };
    expect(claims).toMatchObject({ aud: crm.resource, sub: 'alice', act: { sub: 'baton-gateway' } });
  }
});

test('extra headers ride on top of any mode; what the client sent (cookie, its own authorization, x-internal-*) never reaches the app', async () => {
  const aliceToken = await gs.tokenFor('alice');
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const client = new Client({ name: 'nosy-client', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gs.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${aliceToken}`, Cookie: 'session=client-cookie', 'X-Internal-Secret': 'do-not-forward', 'X-Internal-Route': 'blue' } },
    }),
  );
  for (const mode of ['bearer', 'api_key_header', 'client_credentials']) await client.callTool({ name: `crm_probe_${mode}`, arguments: {} });
  await client.close();
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
  const apiCalls = requests.filter((r) => r.path.startsWith('/api/'));
  expect(apiCalls).toHaveLength(6);
  for (const call of apiCalls) {
    expect(call.headers).toMatchObject({
      'x-baton-user': 'alice',
      'x-baton-email': 'alice@example.com',
      'x-source': 'baton-tests',
      'x-partner-key': partnerKey,
    });
    expect(call.headers['x-service-token']).toMatch(/^Bearer \S{20,}$/);
    expect(call.headers.cookie).toBeUndefined();
    expect(call.headers['x-internal-secret']).toBeUndefined();
    expect(call.headers['x-internal-route']).toBeUndefined();
    expect(call.headers.authorization ?? '').not.toContain(aliceToken);
  }
});

test('a three-level tool mixing modes: each level’s call carries its own mode’s credential', async () => {
  await gs.stack.consent(alice, 'github');
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const client = await gs.connect(await gs.tokenFor('alice'));
  const answer = await client.callTool({ name: 'mixed_modes_probe', arguments: {} });
  await client.close();
  expect(answer.structuredContent).toEqual({ crmAs: 'integration', login: 'alice', jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?since=${since}`)) as { requests: LoggedRequest[] };
  const byApp = (app: string) => requests.filter((r) => r.app === app && !r.path.startsWith('/oauth') && !r.path.startsWith('/login'));
  expect(byApp('crm').map((r) => r.credential)).toEqual([expect.objectContaining({ kind: 'bearer_static', presented: crm.integrationToken })]);
  expect(byApp('github').map((r) => r.credential)).toEqual([expect.objectContaining({ scheme: 'bearer', user: 'alice' })]);
  expect(byApp('jira').map((r) => r.credential)).toEqual([expect.objectContaining({ scheme: 'basic', user: 'service-account' })]);
  // The audit trail says the same, level by level.
  const rows = await gs.stack.stores.audit.forRun(String((answer._meta as Record<string, unknown>)['baton/runId']));
  expect(rows.map((row) => [row.app, row.credential?.mode, row.credential?.owner, row.runPath.length])).toEqual([
    ['crm', 'bearer', 'service_account', 1],
    ['github', 'user_oauth', 'user', 2],
    ['jira', 'service_account', 'service_account', 3],
  ]);
  // "Why the service account?" is answered from the configuration, in its own words.
  expect(rows.map((row) => row.credential?.reason)).toEqual([
    'apps.crm.credential: bearer',
    'apps.github.credential: user_oauth',
    'Tickets are filed by the ops service account (apps.jira.credential: service_account)',
  ]);
});

test('security, attack 2: headers a client sends never beat configured ones, and an API-token caller cannot use the override', async () => {
  const since = await lastLogSeq(gs.stack.sandbox.url);
  // bob sends his own key (allowed), and tries to pass as alice and to rewrite the organisation's fixed header.
  const forward = JSON.stringify({ crm: { 'X-Api-Key': crm.userApiKeys.bob!, 'X-Baton-User': 'alice', 'x-baton-email': 'alice@acme.example', 'X-Source': 'forged' } });
  const bob = new Client({ name: 'forging-client', version: '1' });
  await bob.connect(new StreamableHTTPClientTransport(new URL(gs.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${await gs.tokenFor('bob')}`, 'X-Baton-Forward-Headers': forward } } }));
  const answer = await bob.callTool({ name: 'crm_probe_bearer', arguments: {} });
  expect(answer.isError).toBeFalsy();
  await bob.close();
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
  const apiCalls = requests.filter((r) => r.path.startsWith('/api/'));
  expect(apiCalls.length).toBeGreaterThan(0);
  for (const call of apiCalls) {
    expect(call.credential).toMatchObject({ kind: 'api_key_header', user: 'bob' });
    expect(call.headers).toMatchObject({ 'x-baton-user': 'bob', 'x-source': 'baton-tests' });
    expect(call.headers['x-baton-email']).not.toBe('alice@acme.example');
  }

  // An API token is nobody's user: it cannot present "its own" credential by the override either. The gateway
  // already refuses API tokens for these tools (the CRM's headers carry the caller's token), so the run is
  // started directly, as someone with Temporal access could, to check the worker's own refusal.
  const apiSince = await lastLogSeq(gs.stack.sandbox.url);
  const tokenCaller = { ...alice, subject: 'api-token:forwarding-ci', authMethod: 'api_token' as const, inboundTokenRef: null, headerOverrideRef: 'vault:override/forwarding-ci' };
  await gs.stack.stores.vault.putInboundToken('override/forwarding-ci', tokenCaller, JSON.stringify({ crm: { 'x-api-key': crm.organisationApiKey } }), Date.now() + 60_000);
  const handle = await gs.stack.run(
    tokenCaller,
    crmProbes.find((tool) => tool.name === 'crm_probe_api_key_header')!,
    {},
  );
  await expect(handle.result()).rejects.toThrow();
  const status = await handle.query<{ error: { message: string } }>('baton.status');
  expect(status.error.message).toContain('API-token callers have no personal connections');
  const afterToken = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${apiSince}`)) as { requests: LoggedRequest[] };
  expect(afterToken.requests.filter((r) => r.path.startsWith('/api/'))).toEqual([]);
}, 120_000);

test("per-call header override: the client's headers replace the credential for apps that allow it, minus restricted ones", async () => {
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const aliceKey = crm.userApiKeys.alice!;
  const forward = JSON.stringify({ crm: { 'X-Api-Key': aliceKey, 'X-Internal-Trace': 'trace-1', Cookie: 'c=1' }, github: { Authorization: 'Bearer not-for-github' } });
  const client = new Client({ name: 'forwarding-client', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gs.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${await gs.tokenFor('alice')}`, 'X-Baton-Forward-Headers': forward } } }),
  );
  const answer = await client.callTool({ name: 'crm_probe_bearer', arguments: {} });
  expect(answer.structuredContent).toEqual({ customer: 'Acme Corp', noteAuthor: 'alice' });
  await client.close();
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
  for (const call of requests.filter((r) => r.path.startsWith('/api/'))) {
    expect(call.credential).toMatchObject({ kind: 'api_key_header', presented: aliceKey, user: 'alice' });
    expect(call.headers.authorization).toBeUndefined();
    expect(call.headers['x-internal-trace']).toBeUndefined();
    expect(call.headers.cookie).toBeUndefined();
    expect(call.headers['x-baton-user']).toBe('alice');
  }

  const broken = new Client({ name: 'broken-client', version: '1' });
  await broken.connect(
    new StreamableHTTPClientTransport(new URL(gs.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${await gs.tokenFor('alice')}`, 'X-Baton-Forward-Headers': '{not json' } } }),
  );
  await expect(broken.callTool({ name: 'crm_probe_bearer', arguments: {} })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('X-Baton-Forward-Headers is not valid JSON') });
  await broken.close();
});

test('no caller token, exchanged token, forwarded header or other secret reached Temporal history', async () => {
  await expectNoSecretsInHistories(gs.stack);
});

test('per-tool overrides decide what an API-token caller may run and what pre-flight asks for', async () => {
  const { token } = await new ApiTokenStore(gs.stack.stores.db).create('override-probe', { tenant: 'acme' });
  const answer = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${token}` });
  const names: string[] = answer.json.result.tools.map((t: { name: string }) => t.name);
  expect(names).toContain('probe_identity'); // GitHub without credentials for this tool: no personal connection needed
  expect(names).not.toContain('read_pull_request'); // GitHub as each user, the app's own mode
  expect(names).not.toContain('crm_probe_passthrough'); // the caller's own token
});
