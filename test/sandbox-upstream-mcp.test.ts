/**
 * The sandbox's two upstream MCP servers over real HTTP, driven by the official MCP client SDK: `notes`
 * (OAuth per the MCP authorization spec, with its own authorization server) and `status` (an API key).
 */
import {
  Client,
  discoverOAuthProtectedResourceMetadata,
  discoverOAuthServerInfo,
  exchangeAuthorization,
  extractWWWAuthenticateParams,
  refreshAuthorization,
  registerClient,
  startAuthorization,
  StreamableHTTPClientTransport,
  type AuthorizationServerMetadata,
  type CallToolResult,
  type OAuthClientInformationMixed,
  type OAuthTokens,
  type Tool,
} from '@modelcontextprotocol/client';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { approveConsentOverHttp } from '../sandbox/browserless-consent.ts';
import { signInOverHttp } from '../sandbox/idp/headless-login.ts';
import { cliClient, startSandbox, type LoggedRequest, type RunningSandbox } from '../sandbox/server.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';
import { until } from './support/until.ts';

const clients = {
  github: { clientId: 'baton-github-client', clientSecret: 'github-client-secret-123' },
  slack: { clientId: 'baton-slack-client', clientSecret: 'slack-client-secret-456' },
};
const jiraServiceAccount = { email: 'baton@example.com', apiToken: 'jira-api-token-789' };
const statusApiKey = 'status-api-key-for-tests-0123456789';
const redirectUri = 'http://127.0.0.1:53682/callback';
const notesScope = 'notes:read notes:write';

type Era = 'legacy' | 'modern';
const eras: Era[] = ['legacy', 'modern'];

let sandbox: RunningSandbox;
/** Discovered the way an MCP client does: from the MCP server URL. */
let asUrl: string;
let metadata: AuthorizationServerMetadata;
/** One dynamically registered public client, shared by the tests that only need a client. */
let client: OAuthClientInformationMixed;
const openClients: Client[] = [];
const transports = new Map<Client, StreamableHTTPClientTransport>();

/** Response bodies are free-form JSON in these tests. */
const jsonOf = (response: Response): Promise<any> => response.json();

beforeAll(async () => {
  sandbox = await startSandbox({ clients, jiraServiceAccount, statusApiKey });
  const info = await discoverOAuthServerInfo(sandbox.notesMcpUrl);
  asUrl = info.authorizationServerUrl;
  metadata = info.authorizationServerMetadata!;
  client = await registerPublicClient();
});

afterEach(async () => {
  await Promise.all(openClients.splice(0).map((open) => open.close()));
});

afterAll(async () => {
  await sandbox.close();
});

async function registerPublicClient(): Promise<OAuthClientInformationMixed> {
  return registerClient(asUrl, {
    metadata,
    clientMetadata: {
      client_name: 'Upstream test client',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
  });
}

/** PKCE + resource authorization as `user`, signing in and consenting over HTTP, up to the code. */
async function authorize(user: string, clientInformation: OAuthClientInformationMixed): Promise<{ code: string; iss: string | undefined; codeVerifier: string }> {
  const { authorizationUrl, codeVerifier } = await startAuthorization(asUrl, {
    metadata,
    clientInformation,
    redirectUrl: redirectUri,
    scope: notesScope,
    resource: new URL(sandbox.notesMcpUrl),
    state: 'state-123',
  });
  expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorizationUrl.searchParams.get('resource')).toBe(sandbox.notesMcpUrl);
  const callback = await approveConsentOverHttp(authorizationUrl.href, { username: user, password: user }, 'approve');
  expect(callback.searchParams.get('state')).toBe('state-123');
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`No code in ${callback.href}`);
  return { code, iss: callback.searchParams.get('iss') ?? undefined, codeVerifier };
}

async function signIn(user: string, clientInformation: OAuthClientInformationMixed = client): Promise<OAuthTokens> {
  const { code, iss, codeVerifier } = await authorize(user, clientInformation);
  return exchangeAuthorization(asUrl, { metadata, clientInformation, authorizationCode: code, iss, codeVerifier, redirectUri, resource: new URL(sandbox.notesMcpUrl) });
}

async function connect(era: Era, headers: Record<string, string>, url = sandbox.notesMcpUrl): Promise<Client> {
  const mcp = new Client({ name: 'upstream-test', version: '1.0.0' }, era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await mcp.connect(transport);
  openClients.push(mcp);
  transports.set(mcp, transport);
  expect(mcp.getProtocolEra()).toBe(era);
  return mcp;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function call(mcp: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await mcp.callTool({ name, arguments: args })) as CallToolResult;
}

/** A bare 2025-era initialize POST, to see the HTTP answer itself. */
async function rawInitialize(headers: Record<string, string>, url = sandbox.notesMcpUrl): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
}

async function requestsSince(app: 'notes' | 'status', since: number): Promise<LoggedRequest[]> {
  return ((await sandboxControl(sandbox.url, `/requests?app=${app}&since=${since}`)) as { requests: LoggedRequest[] }).requests;
}

const resourceMetadataUrl = () => `${sandbox.url}/.well-known/oauth-protected-resource/notes/mcp`;

describe('notes: discovery', () => {
  test('a request without a token gets the 401 challenge, and the metadata chain leads to the notes authorization server', async () => {
    expect(sandbox.notesMcpUrl).toBe(`${sandbox.url}/notes/mcp`);
    expect(sandbox.notesIssuer).toBe(`${sandbox.url}/notes-auth`);
    const since = await lastLogSeq(sandbox.url);

    const refused = await rawInitialize({});
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get('www-authenticate')!;
    expect(challenge).toMatch(new RegExp(`^Bearer resource_metadata="${resourceMetadataUrl()}"`));
    expect(challenge).not.toContain('error=');
    expect(extractWWWAuthenticateParams(refused)).toMatchObject({ resourceMetadataUrl: new URL(resourceMetadataUrl()), scope: notesScope });

    const resource = await discoverOAuthProtectedResourceMetadata(sandbox.notesMcpUrl, { resourceMetadataUrl: resourceMetadataUrl() });
    expect(resource).toMatchObject({
      resource: sandbox.notesMcpUrl,
      authorization_servers: [sandbox.notesIssuer],
      scopes_supported: ['notes:read', 'notes:write'],
      bearer_methods_supported: ['header'],
    });

    expect(asUrl).toBe(sandbox.notesIssuer);
    expect(metadata).toMatchObject({
      issuer: sandbox.notesIssuer,
      registration_endpoint: expect.stringMatching(new RegExp(`^${sandbox.notesIssuer}/`)),
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      client_id_metadata_document_supported: true,
    });
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
    // RFC 8414's path-inserted form and OpenID discovery name the same server.
    for (const path of ['/.well-known/oauth-authorization-server/notes-auth', '/notes-auth/.well-known/openid-configuration']) {
      const document = await jsonOf(await fetch(`${sandbox.url}${path}`));
      expect(document).toMatchObject({ issuer: sandbox.notesIssuer, token_endpoint: metadata.token_endpoint });
    }
    // Not the identity provider's: another issuer with other keys.
    const idp = await jsonOf(await fetch(`${sandbox.idpIssuer}/.well-known/openid-configuration`));
    expect(idp.jwks_uri).not.toBe((metadata as Record<string, unknown>).jwks_uri);

    const [logged] = await requestsSince('notes', since);
    expect(logged).toMatchObject({ method: 'POST', path: '/notes/mcp', status: 401, credential: { scheme: 'none', user: null, valid: false, refusal: 'missing_token' } });
  });

  test('an invalid token gets the challenge with error="invalid_token"', async () => {
    const refused = await rawInitialize(bearer('not-a-token'));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer resource_metadata="${resourceMetadataUrl()}", .*error="invalid_token"`));
    expect(extractWWWAuthenticateParams(refused).error).toBe('invalid_token');
    expect(await jsonOf(refused)).toMatchObject({ error: 'invalid_token' });
  });
});

describe('notes: sign-in', () => {
  test('a dynamically registered client gets alice a token bound to the notes server; whoami answers alice in both eras', async () => {
    expect(client.client_id).toEqual(expect.any(String));
    expect((client as { client_secret?: string }).client_secret).toBeUndefined();
    const since = await lastLogSeq(sandbox.url);
    const tokens = await signIn('alice');
    expect(tokens).toMatchObject({ token_type: expect.stringMatching(/^bearer$/i), expires_in: 3600, refresh_token: expect.any(String) });
    expect(tokens.scope?.split(' ').sort()).toEqual(['notes:read', 'notes:write']);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: sandbox.notesIssuer, aud: sandbox.notesMcpUrl, sub: 'alice', client_id: client.client_id });

    for (const era of eras) {
      const mcp = await connect(era, bearer(tokens.access_token));
      const whoami = await call(mcp, 'whoami');
      expect(whoami.structuredContent).toEqual({ user: 'alice', scopes: expect.arrayContaining(['notes:read', 'notes:write']) });
    }

    const requests = await requestsSince('notes', since);
    const exchange = requests.find((request) => request.path === '/notes-auth/token');
    expect(exchange).toMatchObject({ status: 200, grantType: 'authorization_code', credential: { presented: client.client_id, user: 'alice', valid: true } });
    const mcpRequests = requests.filter((request) => request.path === '/notes/mcp');
    expect(mcpRequests.length).toBeGreaterThan(2);
    for (const request of mcpRequests) expect(request.credential).toMatchObject({ scheme: 'bearer', presented: tokens.access_token, user: 'alice', valid: true });

    // Every token issued is on the sandbox's list of secrets, for Baton's leak scans.
    const { secrets } = await sandboxControl(sandbox.url, '/issued-secrets');
    expect(secrets).toEqual(expect.arrayContaining([tokens.access_token, tokens.refresh_token]));
  });

  test('a client ID metadata document client signs in without registering', async () => {
    let clientId = '';
    const documentServer: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ client_id: clientId, client_name: 'Metadata document client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }));
    }).listen(0, '127.0.0.1');
    await once(documentServer, 'listening');
    clientId = `http://127.0.0.1:${(documentServer.address() as AddressInfo).port}/oauth/client.json`;
    try {
      const tokens = await signIn('bob', { client_id: clientId });
      expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'bob', client_id: clientId, aud: sandbox.notesMcpUrl });
      const mcp = await connect('legacy', bearer(tokens.access_token));
      expect((await call(mcp, 'whoami')).structuredContent).toMatchObject({ user: 'bob' });
    } finally {
      documentServer.close();
    }
  });

  test('the authorization server insists on PKCE, the resource parameter and registered redirect URIs', async () => {
    const authorizeWith = async (params: Record<string, string | undefined>) => {
      const url = new URL(metadata.authorization_endpoint);
      const base: Record<string, string | undefined> = {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: redirectUri,
        scope: notesScope,
        state: 'state-123',
        resource: sandbox.notesMcpUrl,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      };
      for (const [name, value] of Object.entries({ ...base, ...params })) if (value !== undefined) url.searchParams.set(name, value);
      return fetch(url, { redirect: 'manual' });
    };
    const errorOf = (response: Response) => new URL(response.headers.get('location')!).searchParams.get('error');

    expect(errorOf(await authorizeWith({ resource: undefined }))).toBe('invalid_target');
    expect(errorOf(await authorizeWith({ resource: `${sandbox.url}/status/mcp` }))).toBe('invalid_target');
    expect(errorOf(await authorizeWith({ code_challenge: undefined, code_challenge_method: undefined }))).toBe('invalid_request');
    const foreignRedirect = await authorizeWith({ redirect_uri: 'http://127.0.0.1:9/elsewhere' });
    expect(foreignRedirect.status).toBe(400);
    expect(foreignRedirect.headers.get('location')).toBeNull();

    // The token request must name the resource too.
    const { code, codeVerifier } = await authorize('alice', client);
    const response = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: redirectUri, client_id: client.client_id }),
    });
    expect(response.status).toBe(400);
    expect(await jsonOf(response)).toMatchObject({ error: 'invalid_target' });
  });
});

describe('notes: tools as the token’s user', () => {
  test('alice and bob each see only their own notes, and each call carried its user’s token', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const since = await lastLogSeq(sandbox.url);
    const asAlice = await connect('legacy', bearer(alice.access_token));
    const asBob = await connect('modern', bearer(bob.access_token));

    const created = await call(asAlice, 'create_note', { title: 'Alice only', body: 'secret plans' });
    expect(created.structuredContent).toEqual({ id: expect.any(String), title: 'Alice only', body: 'secret plans', owner: 'alice' });
    expect(created.content).toEqual([{ type: 'text', text: expect.stringContaining('Alice only') }]);
    const bobs = await call(asBob, 'create_note', { title: 'Bob only', body: 'lunch' });
    expect(bobs.structuredContent).toMatchObject({ owner: 'bob' });

    const bobList = (await call(asBob, 'list_notes')).structuredContent as { notes: { title: string; owner: string }[] };
    expect(bobList.notes.map((note) => note.title)).toContain('Bob only');
    expect(bobList.notes.every((note) => note.owner === 'bob')).toBe(true);
    const aliceList = (await call(asAlice, 'list_notes')).structuredContent as { notes: { title: string; owner: string }[] };
    expect(aliceList.notes.map((note) => note.title)).toContain('Alice only');
    expect(aliceList.notes.every((note) => note.owner === 'alice')).toBe(true);

    const requests = (await requestsSince('notes', since)).filter((request) => request.path === '/notes/mcp');
    const users = (token: string) => new Set(requests.filter((request) => request.credential.presented === token).map((request) => request.credential.user));
    expect(users(alice.access_token)).toEqual(new Set(['alice']));
    expect(users(bob.access_token)).toEqual(new Set(['bob']));
  });

  test('tools/list describes the tools with output schemas and annotations; fail_softly is a tool-level error', async () => {
    const tokens = await signIn('alice');
    for (const era of eras) {
      const mcp = await connect(era, bearer(tokens.access_token));
      const { tools } = await mcp.listTools();
      const byName = new Map(tools.map((tool: Tool) => [tool.name, tool]));
      expect([...byName.keys()].sort()).toEqual(['create_note', 'delete_note', 'fail_softly', 'list_notes', 'whoami']);
      expect(byName.get('create_note')).toMatchObject({
        inputSchema: { type: 'object', properties: { title: { type: 'string', minLength: 1, maxLength: 200 }, body: { type: 'string' } }, required: ['title', 'body'] },
        outputSchema: { type: 'object', additionalProperties: false, required: expect.arrayContaining(['id', 'title', 'body', 'owner']) },
        annotations: { destructiveHint: false, idempotentHint: false },
      });
      expect(byName.get('list_notes')).toMatchObject({ outputSchema: { type: 'object', additionalProperties: false }, annotations: { readOnlyHint: true } });

      const failed = await call(mcp, 'fail_softly');
      expect(failed.isError).toBe(true);
      expect(failed.content).toEqual([{ type: 'text', text: expect.stringContaining('tool-level error') }]);
    }
  });
});

describe('notes: tokens it refuses', () => {
  test('a token from the identity provider, even one issued for the notes URL, is refused', async () => {
    const fromIdp = await signInOverHttp({
      issuer: sandbox.idpIssuer,
      clientId: cliClient.clientId,
      redirectUri: 'http://127.0.0.1:49152/cli-callback',
      resource: sandbox.notesMcpUrl,
      scope: 'openid mcp:tools',
      username: 'alice',
      password: 'alice',
    });
    expect(decodeJwt(fromIdp.accessToken)).toMatchObject({ iss: sandbox.idpIssuer, aud: sandbox.notesMcpUrl, sub: 'alice' });
    const since = await lastLogSeq(sandbox.url);
    const refused = await rawInitialize(bearer(fromIdp.accessToken));
    expect(refused.status).toBe(401);
    expect(extractWWWAuthenticateParams(refused)).toMatchObject({ error: 'invalid_token', resourceMetadataUrl: new URL(resourceMetadataUrl()) });
    const [logged] = await requestsSince('notes', since);
    expect(logged!.credential).toMatchObject({ presented: fromIdp.accessToken, valid: false, refusal: 'foreign_token' });
  });

  test('an expired access token is refused; a refreshed one works', async () => {
    const tokens = await signIn('alice');
    await sandboxControl(sandbox.url, '/settings', { accessTokenTtlSeconds: 1 });
    try {
      const shortLived = await refreshAuthorization(asUrl, { metadata, clientInformation: client, refreshToken: tokens.refresh_token!, resource: new URL(sandbox.notesMcpUrl) });
      expect(shortLived.expires_in).toBe(1);
      const since = await lastLogSeq(sandbox.url);
      const refused = await until('the one-second token to be refused', async () => {
        const response = await rawInitialize(bearer(shortLived.access_token));
        return response.status === 401 ? response : undefined;
      });
      expect(extractWWWAuthenticateParams(refused).error).toBe('invalid_token');
      const logged = (await requestsSince('notes', since)).at(-1)!;
      expect(logged.credential).toMatchObject({ user: 'alice', valid: false, refusal: 'token_expired' });
    } finally {
      await sandboxControl(sandbox.url, '/settings', { accessTokenTtlSeconds: 3600 });
    }
  });

  test('refresh needs the resource; a revoked grant can no longer refresh, and its access tokens stop working', async () => {
    const tokens = await signIn('carol');
    const refreshed = await refreshAuthorization(asUrl, { metadata, clientInformation: client, refreshToken: tokens.refresh_token!, resource: new URL(sandbox.notesMcpUrl) });
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ sub: 'carol', aud: sandbox.notesMcpUrl });
    const mcp = await connect('legacy', bearer(refreshed.access_token));
    expect((await call(mcp, 'whoami')).structuredContent).toMatchObject({ user: 'carol' });

    const withoutResource = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, client_id: client.client_id }),
    });
    expect(withoutResource.status).toBe(400);
    expect(await jsonOf(withoutResource)).toMatchObject({ error: 'invalid_target' });
    // Refused before it was used up: the same refresh token still works.
    const again = await refreshAuthorization(asUrl, { metadata, clientInformation: client, refreshToken: refreshed.refresh_token!, resource: new URL(sandbox.notesMcpUrl) });

    const { revokedGrants } = await sandboxControl(sandbox.url, '/revoke-user-grants', { app: 'notes', user: 'carol' });
    expect(revokedGrants).toBeGreaterThanOrEqual(1);
    const since = await lastLogSeq(sandbox.url);
    await expect(refreshAuthorization(asUrl, { metadata, clientInformation: client, refreshToken: again.refresh_token!, resource: new URL(sandbox.notesMcpUrl) })).rejects.toMatchObject({
      code: 'invalid_grant',
    });
    const [refresh] = await requestsSince('notes', since);
    expect(refresh).toMatchObject({ path: '/notes-auth/token', status: 400, grantType: 'refresh_token', credential: { valid: false } });

    // The grant's outstanding access tokens stop working at once.
    const refused = await rawInitialize(bearer(again.access_token));
    expect(refused.status).toBe(401);
    const logged = (await requestsSince('notes', since)).at(-1)!;
    expect(logged.credential).toMatchObject({ user: 'carol', valid: false, refusal: 'grant_revoked' });
  });
});

describe('notes: test controls', () => {
  test('challenge mode answers a user’s valid token with the 401 challenge, and only that user’s', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    await sandboxControl(sandbox.url, '/notes/challenge', { user: 'alice', enabled: true });
    try {
      const refused = await rawInitialize(bearer(alice.access_token));
      expect(refused.status).toBe(401);
      expect(extractWWWAuthenticateParams(refused)).toMatchObject({ error: 'invalid_token', resourceMetadataUrl: new URL(resourceMetadataUrl()) });
      await expect(connect('modern', bearer(alice.access_token))).rejects.toThrow();
      expect((await rawInitialize(bearer(bob.access_token))).status).toBe(200);
    } finally {
      await sandboxControl(sandbox.url, '/notes/challenge', { user: 'alice', enabled: false });
    }
    const mcp = await connect('modern', bearer(alice.access_token));
    expect((await call(mcp, 'whoami')).structuredContent).toMatchObject({ user: 'alice' });
  });

  test.each(eras)('a tool added at runtime appears in tools/list and connected %s clients are told', async (era) => {
    const tokens = await signIn('alice');
    const mcp = await connect(era, bearer(tokens.access_token));
    let changes = 0;
    mcp.setNotificationHandler('notifications/tools/list_changed', () => {
      changes += 1;
    });
    if (era === 'modern') {
      await mcp.listen({ toolsListChanged: true });
    } else {
      // The 2025 client opens its notification stream (GET) after initializing; notifications need it open.
      const sessionId = transports.get(mcp)!.sessionId;
      expect(sessionId).toEqual(expect.any(String));
      await until('the session’s notification stream', async () => {
        const { sessions } = await sandboxControl(sandbox.url, '/notes');
        const session = (sessions as { id: string; owner: string; notificationStreams: number }[]).find((candidate) => candidate.id === sessionId);
        expect(session?.owner).toBe('alice');
        return session!.notificationStreams > 0 || undefined;
      });
    }
    expect((await mcp.listTools()).tools.map((tool: Tool) => tool.name)).not.toContain('archive_note');

    await sandboxControl(sandbox.url, '/notes/tools', { tool: 'archive_note', enabled: true });
    try {
      await until('tools/list_changed', () => (changes >= 1 ? true : undefined), 10_000);
      expect((await mcp.listTools()).tools.map((tool: Tool) => tool.name)).toContain('archive_note');
      const note = (await call(mcp, 'create_note', { title: 'To archive', body: '' })).structuredContent as { id: string };
      expect((await call(mcp, 'archive_note', { id: note.id })).structuredContent).toEqual({ id: note.id, archived: true });
    } finally {
      await sandboxControl(sandbox.url, '/notes/tools', { tool: 'archive_note', enabled: false });
    }
    await until('the second tools/list_changed', () => (changes >= 2 ? true : undefined), 10_000);
    expect((await mcp.listTools()).tools.map((tool: Tool) => tool.name)).not.toContain('archive_note');
  });

  test('malformed mode answers JSON that is not JSON-RPC; huge mode makes list_notes megabytes long', async () => {
    const tokens = await signIn('dave');
    await sandboxControl(sandbox.url, '/notes/malformed', { enabled: true });
    try {
      const answer = await rawInitialize(bearer(tokens.access_token));
      expect(answer.status).toBe(200);
      const body = await jsonOf(answer);
      expect(body).not.toHaveProperty('jsonrpc');
    } finally {
      await sandboxControl(sandbox.url, '/notes/malformed', { enabled: false });
    }

    const mcp = await connect('modern', bearer(tokens.access_token));
    await sandboxControl(sandbox.url, '/notes/huge', { megabytes: 2 });
    try {
      const huge = await call(mcp, 'list_notes');
      expect(JSON.stringify(huge.structuredContent).length).toBeGreaterThan(2 * 1024 * 1024);
    } finally {
      await sandboxControl(sandbox.url, '/notes/huge', { megabytes: 0 });
    }
    expect((await call(mcp, 'list_notes')).structuredContent).toEqual({ notes: [] });
  });
});

describe('status: an API key', () => {
  test('refuses a missing or wrong key with 401 and logs what it saw', async () => {
    expect(sandbox.statusMcpUrl).toBe(`${sandbox.url}/status/mcp`);
    expect(sandbox.statusApiKey).toBe(statusApiKey);
    const since = await lastLogSeq(sandbox.url);
    for (const headers of [{}, { 'X-Api-Key': 'wrong-key' }] as Record<string, string>[]) {
      const refused = await rawInitialize(headers, sandbox.statusMcpUrl);
      expect(refused.status).toBe(401);
      expect(await jsonOf(refused)).toMatchObject({ jsonrpc: '2.0', error: { code: expect.any(Number), message: expect.stringContaining('X-Api-Key') } });
    }
    await expect(connect('legacy', { 'X-Api-Key': 'wrong-key' }, sandbox.statusMcpUrl)).rejects.toThrow();
    const requests = await requestsSince('status', since);
    expect(requests[0]!.credential).toMatchObject({ presented: null, valid: false, kind: 'none', refusal: 'missing_api_key' });
    expect(requests[1]!.credential).toMatchObject({ presented: 'wrong-key', valid: false, kind: 'api_key_header', refusal: 'invalid_api_key' });
    const { secrets } = await sandboxControl(sandbox.url, '/issued-secrets');
    expect(secrets).toContain(statusApiKey);
  });

  test.each(eras)('answers with the right key (%s era)', async (era) => {
    const since = await lastLogSeq(sandbox.url);
    const mcp = await connect(era, { 'X-Api-Key': statusApiKey }, sandbox.statusMcpUrl);
    expect((await call(mcp, 'service_status', { service: 'jira' })).structuredContent).toEqual({ service: 'jira', state: 'degraded', checkedBy: 'api-key' });
    expect((await call(mcp, 'service_status', { service: 'github' })).structuredContent).toEqual({ service: 'github', state: 'operational', checkedBy: 'api-key' });
    const { incidents } = (await call(mcp, 'list_incidents')).structuredContent as { incidents: { service: string }[] };
    expect(incidents).toEqual([expect.objectContaining({ id: 'INC-1001', service: 'jira' })]);
    for (const request of await requestsSince('status', since)) {
      expect(request.credential).toMatchObject({ presented: statusApiKey, user: 'api-key', valid: true, kind: 'api_key_header' });
    }
  });
});
