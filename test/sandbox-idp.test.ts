/** The sandbox identity provider over real HTTP: discovery, registration, sign-in, JWT access tokens. */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { approveConsentOverHttp, CookieKeepingClient, parseForms } from '../sandbox/browserless-consent.ts';
import { signInOverHttp } from '../sandbox/idp/headless-login.ts';
import { cliClient, startSandbox, type RunningSandbox } from '../sandbox/server.ts';

const clients = {
  github: { clientId: 'baton-github-client', clientSecret: 'github-client-secret-123' },
  slack: { clientId: 'baton-slack-client', clientSecret: 'slack-client-secret-456' },
};
const jiraServiceAccount = { email: 'baton@example.com', apiToken: 'jira-api-token-789' };
const baton = { clientId: 'baton-web', clientSecret: 'baton-web-secret-abc', redirectUris: ['http://127.0.0.1:8080/auth/callback'] };
const resource = 'http://127.0.0.1:3000/mcp';
const mcpRedirectUri = 'http://127.0.0.1:53682/callback';
const scope = 'openid profile email mcp:tools';
const accessTokenTtlSeconds = 600;

let sandbox: RunningSandbox;
let metadata: Record<string, any>;
let testKey: { privateJwk: JWK; publicJwk: JWK };
let jwks: ReturnType<typeof createRemoteJWKSet>;

/** Response bodies are free-form JSON in these tests. */
const jsonOf = (response: Response): Promise<any> => response.json();

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  testKey = {
    privateJwk: { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'ES256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid: 'test-signing-key', alg: 'ES256' },
  };
  sandbox = await startSandbox({
    clients,
    jiraServiceAccount,
    idp: { clients: { baton }, signingKeys: [testKey.privateJwk], accessTokenTtlSeconds },
  });
  metadata = await jsonOf(await fetch(`${sandbox.idpIssuer}/.well-known/openid-configuration`));
  jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
});

afterAll(async () => {
  await sandbox.close();
});

/** RFC 7591 registration as an MCP client does it: a public client with a loopback redirect. */
async function registerMcpClient(extra: Record<string, unknown> = {}): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Test MCP client',
      redirect_uris: [mcpRedirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...extra,
    }),
  });
  return { status: response.status, body: await jsonOf(response) };
}

function authorizeUrl(params: Record<string, string>): string {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    redirect_uri: mcpRedirectUri,
    scope,
    resource,
    state: 'state-123',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...params,
  }).toString();
  return url.href;
}

async function verifyAccessToken(token: string, audience = resource): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: sandbox.idpIssuer, audience, typ: 'at+jwt' });
  expect(protectedHeader.kid).toBe('test-signing-key');
  return payload;
}

describe('discovery', () => {
  test('the same metadata at the issuer path and at the RFC 8414 path-inserted form', async () => {
    expect(sandbox.idpIssuer).toBe(`${sandbox.url}/idp`);
    expect(metadata).toMatchObject({
      issuer: sandbox.idpIssuer,
      jwks_uri: `${sandbox.idpIssuer}/jwks`,
      registration_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/idp\//),
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      client_id_metadata_document_supported: true,
    });
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'mcp:tools', 'offline_access']));
    for (const path of ['/.well-known/oauth-authorization-server/idp', '/.well-known/openid-configuration/idp', '/idp/.well-known/oauth-authorization-server']) {
      const response = await fetch(`${sandbox.url}${path}`);
      expect(response.status).toBe(200);
      expect(await jsonOf(response)).toEqual(metadata);
    }
  });

  test('the JWKS publishes the test-supplied key, public part only', async () => {
    const { keys } = await jsonOf(await fetch(metadata.jwks_uri));
    expect(keys).toEqual([expect.objectContaining({ kid: 'test-signing-key', kty: 'EC', crv: 'P-256', x: testKey.publicJwk.x, y: testKey.publicJwk.y })]);
    expect(keys[0]).not.toHaveProperty('d');
  });
});

describe('sign-in with a dynamically registered MCP client', () => {
  test('alice gets a JWT for the requested resource carrying her identity', async () => {
    const registration = await registerMcpClient();
    expect(registration.status).toBe(201);
    expect(registration.body.client_secret).toBeUndefined();
    const clientId = registration.body.client_id as string;

    const signedIn = await signInOverHttp({
      issuer: sandbox.idpIssuer,
      clientId,
      redirectUri: mcpRedirectUri,
      resource,
      scope,
      username: 'alice',
      password: 'alice',
    });
    expect(signedIn.expiresIn).toBe(accessTokenTtlSeconds);

    const claims = await verifyAccessToken(signedIn.accessToken);
    expect(claims).toMatchObject({
      iss: sandbox.idpIssuer,
      aud: resource,
      sub: 'alice',
      email: 'alice@example.com',
      name: 'Alice Example',
      groups: ['engineering'],
      tenant: 'acme',
      client_id: clientId,
    });
    expect(String(claims.scope).split(' ')).toEqual(expect.arrayContaining(['mcp:tools', 'openid', 'profile', 'email']));
    expect(claims.exp! - claims.iat!).toBe(accessTokenTtlSeconds);

    // Inbound tokens count as issued secrets, so leak scans cover them.
    const { secrets } = await jsonOf(await fetch(`${sandbox.url}/_sandbox/issued-secrets`));
    expect(secrets).toContain(signedIn.accessToken);
  });

  test('bob gets his own claims', async () => {
    const { body } = await registerMcpClient();
    const { accessToken } = await signInOverHttp({
      issuer: sandbox.idpIssuer,
      clientId: body.client_id,
      redirectUri: mcpRedirectUri,
      resource,
      scope,
      username: 'bob',
      password: 'bob',
    });
    expect(await verifyAccessToken(accessToken)).toMatchObject({ sub: 'bob', email: 'bob@example.com', groups: ['support'], tenant: 'acme' });
  });

  test('offline_access brings a refresh token', async () => {
    const { body } = await registerMcpClient();
    const signedIn = await signInOverHttp({
      issuer: sandbox.idpIssuer,
      clientId: body.client_id,
      redirectUri: mcpRedirectUri,
      resource,
      scope: `${scope} offline_access`,
      username: 'alice',
      password: 'alice',
    });
    expect(signedIn.refreshToken).toEqual(expect.any(String));
  });

  test('a wrong password re-shows the sign-in form with an error, and signInOverHttp is refused', async () => {
    const { body } = await registerMcpClient();
    const browser = new CookieKeepingClient();
    const start = await browser.fetch(authorizeUrl({ client_id: body.client_id }));
    expect(start.status).toBe(303);
    const pageUrl = new URL(start.headers.get('location')!, sandbox.url);
    expect(pageUrl.pathname).toMatch(/^\/idp\/interaction\//);
    const [form] = parseForms(await (await browser.fetch(pageUrl)).text());
    const refused = await browser.submit(pageUrl, form!, { username: 'alice', password: 'not-alice' });
    expect(refused.status).toBe(401);
    const page = await refused.text();
    expect(page).toContain('Incorrect username or password.');
    expect(parseForms(page)[0]!.fields).toMatchObject({ username: 'alice', password: '' });

    await expect(signInOverHttp({ issuer: sandbox.idpIssuer, clientId: body.client_id, redirectUri: mcpRedirectUri, resource, scope, username: 'alice', password: 'bob' })).rejects.toThrow(
      'Sign-in as alice was refused',
    );
  });

  test('deny at the consent page sends access_denied back to the client', async () => {
    const { body } = await registerMcpClient();
    const redirect = await approveConsentOverHttp(authorizeUrl({ client_id: body.client_id }), { username: 'alice', password: 'alice' }, 'deny');
    expect(redirect.origin + redirect.pathname).toBe(mcpRedirectUri);
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('state')).toBe('state-123');
    expect(redirect.searchParams.get('code')).toBeNull();
  });

  test('PKCE is required even of confidential clients, and resources must be on loopback', async () => {
    const { body } = await registerMcpClient();
    const withoutPkce = new URL(authorizeUrl({ client_id: baton.clientId, redirect_uri: baton.redirectUris[0]! }));
    withoutPkce.searchParams.delete('code_challenge');
    withoutPkce.searchParams.delete('code_challenge_method');
    const noPkce = await fetch(withoutPkce, { redirect: 'manual' });
    expect(new URL(noPkce.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');

    const foreign = await fetch(authorizeUrl({ client_id: body.client_id, resource: 'https://mcp.example.com/mcp' }), { redirect: 'manual' });
    expect(new URL(foreign.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
  });
});

describe('pre-registered and metadata-document clients', () => {
  test("Baton's confidential client and the public baton-cli client both sign in", async () => {
    const web = await signInOverHttp({
      issuer: sandbox.idpIssuer,
      clientId: baton.clientId,
      clientSecret: baton.clientSecret,
      redirectUri: baton.redirectUris[0]!,
      resource,
      scope,
      username: 'alice',
      password: 'alice',
    });
    expect(await verifyAccessToken(web.accessToken)).toMatchObject({ sub: 'alice', client_id: baton.clientId });

    // Any loopback port matches the CLI's registered redirect URI.
    const cli = await signInOverHttp({
      issuer: sandbox.idpIssuer,
      clientId: cliClient.clientId,
      redirectUri: 'http://127.0.0.1:49152/cli-callback',
      resource,
      scope,
      username: 'bob',
      password: 'bob',
    });
    expect(await verifyAccessToken(cli.accessToken)).toMatchObject({ sub: 'bob', client_id: 'baton-cli' });
  });

  test('a client ID metadata document URL works as client_id without registration', async () => {
    let clientId = '';
    const documentServer: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ client_id: clientId, client_name: 'Metadata document client', redirect_uris: [mcpRedirectUri], token_endpoint_auth_method: 'none' }));
    }).listen(0, '127.0.0.1');
    await once(documentServer, 'listening');
    clientId = `http://127.0.0.1:${(documentServer.address() as AddressInfo).port}/oauth/client.json`;
    try {
      const { accessToken } = await signInOverHttp({ issuer: sandbox.idpIssuer, clientId, redirectUri: mcpRedirectUri, resource, scope, username: 'alice', password: 'alice' });
      expect(await verifyAccessToken(accessToken)).toMatchObject({ sub: 'alice', client_id: clientId });
    } finally {
      documentServer.close();
    }
  });
});

describe('signing keys', () => {
  test('a test holding the signing key mints tokens the IdP JWKS verifies', async () => {
    const forged = await new SignJWT({ scope: 'mcp:tools', email: 'carol@example.com', groups: [], tenant: 'acme' })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-signing-key', typ: 'at+jwt' })
      .setIssuer(sandbox.idpIssuer)
      .setAudience(resource)
      .setSubject('carol')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(await importJWK(testKey.privateJwk, 'ES256'));
    expect(await verifyAccessToken(forged)).toMatchObject({ sub: 'carol' });
  });

  test('without options the IdP generates its own key and tokens last an hour', async () => {
    const plain = await startSandbox({ clients, jiraServiceAccount });
    try {
      const { keys } = await jsonOf(await fetch(`${plain.idpIssuer}/jwks`));
      expect(keys).toHaveLength(1);
      expect(keys[0].kid).not.toBe('test-signing-key');
      const signedIn = await signInOverHttp({
        issuer: plain.idpIssuer,
        clientId: cliClient.clientId,
        redirectUri: 'http://127.0.0.1:49153/cli-callback',
        resource,
        scope,
        username: 'alice',
        password: 'alice',
      });
      expect(signedIn.expiresIn).toBe(3600);
      expect(decodeProtectedHeader(signedIn.accessToken).kid).toBe(keys[0].kid);
      const { payload } = await jwtVerify(signedIn.accessToken, createRemoteJWKSet(new URL(`${plain.idpIssuer}/jwks`)), { issuer: plain.idpIssuer, audience: resource });
      expect(payload.sub).toBe('alice');
    } finally {
      await plain.close();
    }
  });
});
