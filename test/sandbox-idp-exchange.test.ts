/** RFC 8693 token exchange at the sandbox identity provider, and the exchanged token at the CRM. */
import { createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { signInOverHttp } from '../sandbox/idp/headless-login.ts';
import { cliClient, startSandbox, type LoggedRequest, type RunningSandbox } from '../sandbox/server.ts';

const clients = {
  github: { clientId: 'baton-github-client', clientSecret: 'github-client-secret-123' },
  slack: { clientId: 'baton-slack-client', clientSecret: 'slack-client-secret-456' },
};
const jiraServiceAccount = { email: 'baton@example.com', apiToken: 'jira-api-token-789' };
const baton = { clientId: 'baton-web', clientSecret: 'baton-web-secret-abc', redirectUris: ['http://127.0.0.1:8080/auth/callback'] };
/** Baton's own MCP endpoint: what the caller's token is for before the exchange. */
const mcpResource = 'http://127.0.0.1:3000/mcp';
const scope = 'openid profile email mcp:tools';
const grantType = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';

let sandbox: RunningSandbox;
let metadata: Record<string, any>;
let signingKey: JWK;
let jwks: ReturnType<typeof createRemoteJWKSet>;
/** alice's token for Baton's MCP endpoint, as an MCP client would hold it. */
let aliceToken: string;

/** Response bodies are free-form JSON in these tests. */
const jsonOf = (response: Response): Promise<any> => response.json();

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  signingKey = { ...(await exportJWK(privateKey)), kid: 'exchange-test-key', alg: 'ES256' };
  sandbox = await startSandbox({ clients, jiraServiceAccount, idp: { clients: { baton }, signingKeys: [signingKey], accessTokenTtlSeconds: 900 } });
  metadata = await jsonOf(await fetch(`${sandbox.idpIssuer}/.well-known/openid-configuration`));
  jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
  aliceToken = (await signInAs('alice')).accessToken;
});

afterAll(async () => {
  await sandbox.close();
});

function signInAs(user: 'alice' | 'bob') {
  return signInOverHttp({
    issuer: sandbox.idpIssuer,
    clientId: baton.clientId,
    clientSecret: baton.clientSecret,
    redirectUri: baton.redirectUris[0]!,
    resource: mcpResource,
    scope,
    username: user,
    password: user,
  });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(user)}:${encodeURIComponent(password)}`).toString('base64')}`;
}

/** A token-exchange request as the Baton client (or another, given its Authorization header or none). */
async function exchange(
  params: Record<string, string>,
  authorization: string | null = basic(baton.clientId, baton.clientSecret),
): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const response = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(authorization ? { Authorization: authorization } : {}) },
    body: new URLSearchParams({ grant_type: grantType, subject_token_type: accessTokenType, ...params }),
  });
  return { status: response.status, body: await jsonOf(response), headers: response.headers };
}

/** A JWT access token signed with the identity provider's own key, as if it had issued it. */
async function mintWithIdpKey(claims: { sub: string; expiresAt: number; typ?: string }): Promise<string> {
  return new SignJWT({ scope, client_id: baton.clientId })
    .setProtectedHeader({ alg: 'ES256', kid: signingKey.kid!, typ: claims.typ ?? 'at+jwt' })
    .setIssuer(sandbox.idpIssuer)
    .setAudience(mcpResource)
    .setSubject(claims.sub)
    .setIssuedAt(claims.expiresAt - 600)
    .setExpirationTime(claims.expiresAt)
    .sign(await importJWK(signingKey, 'ES256'));
}

describe('token exchange', () => {
  test('discovery lists the grant type', () => {
    expect(metadata.grant_types_supported).toContain(grantType);
  });

  test("alice's token for Baton becomes a CRM token for alice, with Baton as the actor, and the CRM logs it as idp_jwt", async () => {
    const { status, body, headers } = await exchange({ subject_token: aliceToken, resource: sandbox.crm.resource });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toEqual({
      access_token: expect.any(String),
      issued_token_type: accessTokenType,
      token_type: 'Bearer',
      expires_in: 900,
      scope,
    });

    const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, { issuer: sandbox.idpIssuer, audience: sandbox.crm.resource, typ: 'at+jwt' });
    expect(protectedHeader.kid).toBe('exchange-test-key');
    expect(payload).toMatchObject({
      sub: 'alice',
      aud: sandbox.crm.resource,
      act: { sub: baton.clientId },
      client_id: baton.clientId,
      email: 'alice@example.com',
      name: 'Alice Example',
      groups: ['engineering'],
      tenant: 'acme',
      scope,
    });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload.jti).not.toBe(decodeJwt(aliceToken).jti);
    expect((await jsonOf(await fetch(`${sandbox.url}/_sandbox/issued-secrets`))).secrets).toContain(body.access_token);

    const since = (await jsonOf(await fetch(`${sandbox.url}/_sandbox/requests`))).requests.at(-1)?.seq ?? 0;
    const me = await fetch(`${sandbox.crm.resource}/api/v1/me`, { headers: { Authorization: `Bearer ${body.access_token}` } });
    expect(await jsonOf(me)).toEqual({ kind: 'idp_jwt', subject: 'alice' });
    const { requests } = (await jsonOf(await fetch(`${sandbox.url}/_sandbox/requests?app=crm&since=${since}`))) as { requests: LoggedRequest[] };
    expect(requests).toHaveLength(1);
    expect(requests[0]!.credential).toEqual({ scheme: 'bearer', presented: body.access_token, user: 'alice', valid: true, kind: 'idp_jwt' });

    // The caller's own token is not what the exchange produced: the CRM tells them apart.
    const passedThrough = await fetch(`${sandbox.crm.resource}/api/v1/me`, { headers: { Authorization: `Bearer ${aliceToken}` } });
    expect(await jsonOf(passedThrough)).toEqual({ kind: 'idp_jwt_foreign_audience', subject: 'alice' });
  });

  test("bob's token gives bob's claims; audience works like resource; scope can only narrow", async () => {
    const bobToken = (await signInAs('bob')).accessToken;
    const narrowed = await exchange({ subject_token: bobToken, audience: sandbox.crm.resource, scope: 'email' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('email');
    expect(decodeJwt(narrowed.body.access_token)).toMatchObject({ sub: 'bob', email: 'bob@example.com', groups: ['support'], tenant: 'acme', scope: 'email' });

    const widened = await exchange({ subject_token: bobToken, resource: sandbox.crm.resource, scope: 'email offline_access' });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_scope');
    expect(widened.body.error_description).toMatch(/does not carry offline_access/);
  });

  test('exchanging an exchanged token nests the earlier actor', async () => {
    const first = await exchange({ subject_token: aliceToken, resource: 'http://127.0.0.1:4000/api' });
    const second = await exchange({ subject_token: first.body.access_token, resource: sandbox.crm.resource });
    expect(second.status).toBe(200);
    expect(decodeJwt(second.body.access_token).act).toEqual({ sub: baton.clientId, act: { sub: baton.clientId } });
  });
});

describe('refusals', () => {
  test('an expired subject token is invalid_grant', async () => {
    const expired = await mintWithIdpKey({ sub: 'alice', expiresAt: Math.floor(Date.now() / 1000) - 10 });
    const { status, body } = await exchange({ subject_token: expired, resource: sandbox.crm.resource });
    expect(status).toBe(400);
    expect(body).toEqual({ error: 'invalid_grant', error_description: 'The subject_token has expired; get a new one and exchange that.' });
  });

  test('a forged subject token, an ID-token-shaped one and garbage are invalid_grant', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const forged = await new SignJWT({ scope })
      .setProtectedHeader({ alg: 'ES256', kid: signingKey.kid!, typ: 'at+jwt' })
      .setIssuer(sandbox.idpIssuer)
      .setAudience(mcpResource)
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(privateKey);
    const forgedAnswer = await exchange({ subject_token: forged, resource: sandbox.crm.resource });
    expect(forgedAnswer.status).toBe(400);
    expect(forgedAnswer.body.error).toBe('invalid_grant');
    expect(forgedAnswer.body.error_description).toMatch(/signature does not verify/);

    const idTokenShaped = await mintWithIdpKey({ sub: 'alice', expiresAt: Math.floor(Date.now() / 1000) + 300, typ: 'JWT' });
    const idTokenAnswer = await exchange({ subject_token: idTokenShaped, resource: sandbox.crm.resource });
    expect(idTokenAnswer.body.error).toBe('invalid_grant');
    expect(idTokenAnswer.body.error_description).toMatch(/"typ"/);

    const garbage = await exchange({ subject_token: 'not-a-token', resource: sandbox.crm.resource });
    expect(garbage.body.error).toBe('invalid_grant');

    const stranger = await mintWithIdpKey({ sub: 'mallory', expiresAt: Math.floor(Date.now() / 1000) + 300 });
    expect((await exchange({ subject_token: stranger, resource: sandbox.crm.resource })).body).toEqual({
      error: 'invalid_grant',
      error_description: 'The subject_token names no user this identity provider knows.',
    });
  });

  test('a resource off loopback is invalid_target, and so is none at all', async () => {
    const remote = await exchange({ subject_token: aliceToken, resource: 'https://crm.example.com/' });
    expect(remote.status).toBe(400);
    expect(remote.body.error).toBe('invalid_target');
    const missing = await exchange({ subject_token: aliceToken });
    expect(missing.body).toEqual({ error: 'invalid_target', error_description: 'resource (or audience) is required: the URL of the API the new token is for.' });
    const two = await exchange({ subject_token: aliceToken, resource: sandbox.crm.resource, audience: 'http://127.0.0.1:4000/api' });
    expect(two.body.error).toBe('invalid_target');
  });

  test('malformed requests are invalid_request', async () => {
    const noSubject = await exchange({ resource: sandbox.crm.resource });
    expect(noSubject.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('subject_token') });
    const idTokenType = await exchange({ subject_token: aliceToken, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', resource: sandbox.crm.resource });
    expect(idTokenType.body.error).toBe('invalid_request');
    const actor = await exchange({ subject_token: aliceToken, actor_token: aliceToken, actor_token_type: accessTokenType, resource: sandbox.crm.resource });
    expect(actor.body.error).toBe('invalid_request');
  });

  test('client authentication is required, and public or self-registered clients may not exchange', async () => {
    const wrongSecret = await exchange({ subject_token: aliceToken, resource: sandbox.crm.resource }, basic(baton.clientId, 'wrong'));
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe('invalid_client');

    // baton-cli is public and was never given the grant type: oidc-provider refuses it before the grant runs.
    const cli = await exchange({ subject_token: aliceToken, resource: sandbox.crm.resource, client_id: cliClient.clientId }, null);
    expect(cli.status).toBe(400);
    expect(cli.body).toEqual({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });

    const register = async (extra: Record<string, unknown>) => {
      const response = await fetch(metadata.registration_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:53682/callback'], grant_types: ['authorization_code', grantType], response_types: ['code'], ...extra }),
      });
      expect(response.status).toBe(201);
      return jsonOf(response);
    };
    const publicClient = await register({ token_endpoint_auth_method: 'none' });
    const publicAnswer = await exchange({ subject_token: aliceToken, resource: sandbox.crm.resource, client_id: publicClient.client_id }, null);
    expect(publicAnswer.body).toEqual({
      error: 'unauthorized_client',
      error_description: 'Token exchange is for confidential clients only; this client has no secret to authenticate with.',
    });

    const selfRegistered = await register({});
    const selfAnswer = await exchange({ subject_token: aliceToken, resource: sandbox.crm.resource }, basic(selfRegistered.client_id, selfRegistered.client_secret));
    expect(selfAnswer.status).toBe(400);
    expect(selfAnswer.body.error).toBe('unauthorized_client');
  });
});
