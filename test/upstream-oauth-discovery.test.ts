/**
 * Issue 13: how Baton finds and registers with an upstream MCP server's authorization server, against
 * small real HTTP servers playing hostile or broken upstreams: plain-HTTP authorization servers, endpoints
 * or redirects to another origin, no PKCE, a refused registration. Each is refused with a clear error
 * before any user is sent anywhere, and nothing is stored.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpstreamMcpServer } from '../apps/types.ts';
import type { SqlDatabase } from '../core/db.ts';
import { openSqlite } from '../core/storage/sqlite.ts';
import { UpstreamRegistrations } from '../core/upstreams/registrations.ts';
import { UpstreamOAuthClient } from '../core/upstreams/upstream-oauth-client.ts';
import { loadVaultKey, Vault } from '../core/vault/index.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, origin: string) => void;

/** A local HTTP server answering with `handler`; it records every path it was asked for. */
async function serve(handler: Handler): Promise<{ origin: string; asked: string[]; server: Server }> {
  const asked: string[] = [];
  let origin = '';
  const server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    handler(req, res, origin);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, asked, server };
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));

/** Authorization server metadata for `issuer`, with `overrides`. */
const asMetadata = (issuer: string, overrides: Record<string, unknown> = {}) => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  registration_endpoint: `${issuer}/register`,
  response_types_supported: ['code'],
  code_challenge_methods_supported: ['S256'],
  ...overrides,
});

/** An MCP server whose protected resource metadata names `authorizationServer`. */
function upstreamNaming(authorizationServer: (origin: string) => string): Handler {
  return (req, res, origin) => {
    if (req.url?.startsWith('/.well-known/oauth-protected-resource')) return json(res, 200, { resource: `${origin}/mcp`, authorization_servers: [authorizationServer(origin)] });
    json(res, 404, { error: 'not_found' });
  };
}

/** An authorization server publishing `metadata` (RFC 8414 path) and refusing registration when asked to. */
function authorizationServer(metadata: (origin: string) => unknown, registration: 'ok' | 'refused' = 'ok'): Handler {
  return (req, res, origin) => {
    if (req.url?.startsWith('/.well-known/oauth-authorization-server') || req.url?.startsWith('/.well-known/openid-configuration')) return json(res, 200, metadata(origin));
    if (req.url === '/register' && registration === 'refused') return json(res, 400, { error: 'invalid_client_metadata', error_description: 'registration is closed' });
    if (req.url === '/register') return json(res, 201, { client_id: 'registered-client', redirect_uris: ['http://127.0.0.1:1/oauth/callback/up'] });
    json(res, 404, { error: 'not_found' });
  };
}

const servers: Server[] = [];
let dir: string;
let db: SqlDatabase;
let vault: Vault;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-upstream-oauth-'));
  db = await openSqlite(join(dir, 'baton.db'));
  vault = await Vault.open(db, loadVaultKey({ env: { BATON_VAULT_KEY: randomBytes(32).toString('base64') } }));
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function started(handler: Handler) {
  const running = await serve(handler);
  servers.push(running.server);
  return running;
}

function clientFor(url: string, publicUrl = 'http://192.0.2.10:8080'): UpstreamOAuthClient {
  const upstream: UpstreamMcpServer = { url, tools: '*', protocol: 'auto', timeoutMs: 5000, maxResultBytes: 1024 * 1024, toolsCacheMs: 60_000 };
  // A non-loopback plain-HTTP public URL: Baton cannot offer a client ID metadata document there, so it registers.
  return new UpstreamOAuthClient('up', upstream, [], { registrations: new UpstreamRegistrations(vault), publicUrl });
}

const redirectUri = 'http://192.0.2.10:8080/oauth/callback/up';

test('an authorization server advertised on plain HTTP outside loopback is refused', async () => {
  const upstream = await started(upstreamNaming(() => 'http://auth.example.test'));
  await expect(clientFor(`${upstream.origin}/mcp`).startAuthorization(redirectUri)).rejects.toMatchObject({
    code: 'insecure_endpoint',
    message: expect.stringContaining('http://auth.example.test'),
  });
});

test('an authorization server whose token endpoint is on another origin is refused', async () => {
  const elsewhere = await started((_req, res) => json(res, 404, {}));
  const as = await started(authorizationServer((origin) => asMetadata(origin, { token_endpoint: `${elsewhere.origin}/token` })));
  const upstream = await started(upstreamNaming(() => as.origin));
  await expect(clientFor(`${upstream.origin}/mcp`).startAuthorization(redirectUri)).rejects.toMatchObject({
    code: 'foreign_endpoint',
    message: expect.stringContaining(`sends its token_endpoint to another origin (${elsewhere.origin})`),
  });
  expect(elsewhere.asked).toEqual([]);
});

test('a discovery answer redirecting Baton to another origin is not followed', async () => {
  const elsewhere = await started(authorizationServer((origin) => asMetadata(origin)));
  const upstream = await started((_req, res) => res.writeHead(302, { Location: `${elsewhere.origin}/.well-known/oauth-protected-resource` }).end());
  await expect(clientFor(`${upstream.origin}/mcp`).startAuthorization(redirectUri)).rejects.toMatchObject({ code: 'foreign_endpoint', message: expect.stringContaining('redirected') });
  expect(elsewhere.asked).toEqual([]);
});

test('an authorization server without PKCE S256 is refused', async () => {
  const as = await started(authorizationServer((origin) => asMetadata(origin, { code_challenge_methods_supported: ['plain'] })));
  const upstream = await started(upstreamNaming(() => as.origin));
  await expect(clientFor(`${upstream.origin}/mcp`).startAuthorization(redirectUri)).rejects.toMatchObject({ code: 'discovery_failed', message: expect.stringContaining('PKCE S256') });
});

test('a refused registration is a clear error and stores nothing; an accepted one is stored and reused', async () => {
  const refusing = await started(authorizationServer((origin) => asMetadata(origin), 'refused'));
  const upstream = await started(upstreamNaming(() => refusing.origin));
  await expect(clientFor(`${upstream.origin}/mcp`).startAuthorization(redirectUri)).rejects.toMatchObject({
    code: 'registration_refused',
    message: expect.stringContaining("refused Baton's registration"),
  });
  expect(await vault.getServiceCredential('mcp-oauth-client/up')).toBeUndefined();

  const accepting = await started(authorizationServer((origin) => asMetadata(origin)));
  const other = await started(upstreamNaming(() => accepting.origin));
  const client = clientFor(`${other.origin}/mcp`);
  const first = await client.startAuthorization(redirectUri);
  expect(first.url.origin).toBe(accepting.origin);
  expect(first.url.searchParams.get('client_id')).toBe('registered-client');
  expect(first.url.searchParams.get('code_challenge_method')).toBe('S256');
  expect(first.url.searchParams.get('resource')).toBe(`${other.origin}/mcp`);
  await clientFor(`${other.origin}/mcp`).startAuthorization(redirectUri);
  // Registered once, reused by a second client (another process, say).
  expect(accepting.asked.filter((request) => request === 'POST /register')).toHaveLength(1);
});

test('a pre-registered client with configured endpoints is used as it is: no discovery, no registration', async () => {
  const upstream = await started((_req, res) => json(res, 500, { error: 'should not be asked' }));
  const configured: UpstreamMcpServer = {
    url: `${upstream.origin}/mcp`,
    tools: '*',
    protocol: 'auto',
    timeoutMs: 5000,
    maxResultBytes: 1024 * 1024,
    toolsCacheMs: 60_000,
    authorizationUrl: 'https://auth.example.test/authorize',
    tokenUrl: 'https://auth.example.test/token',
    client: { clientId: 'baton-at-example' },
  };
  const client = new UpstreamOAuthClient('configured', configured, ['notes:read'], { registrations: new UpstreamRegistrations(vault), publicUrl: 'http://192.0.2.10:8080' });
  const { url, state, codeVerifier } = await client.startAuthorization('http://192.0.2.10:8080/oauth/callback/configured');
  expect(url.origin + url.pathname).toBe('https://auth.example.test/authorize');
  expect(Object.fromEntries(url.searchParams)).toMatchObject({
    client_id: 'baton-at-example',
    scope: 'notes:read',
    state,
    code_challenge_method: 'S256',
    resource: `${upstream.origin}/mcp`,
    redirect_uri: 'http://192.0.2.10:8080/oauth/callback/configured',
  });
  expect(codeVerifier.length).toBeGreaterThanOrEqual(43);
  expect(upstream.asked).toEqual([]);
  expect(await vault.getServiceCredential('mcp-oauth-client/configured')).toBeUndefined();
});
