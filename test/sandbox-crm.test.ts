/** The sandbox CRM over real HTTP: every kind of credential it takes, and what its request log records. */
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { approveConsentOverHttp } from '../sandbox/browserless-consent.ts';
import { startSandbox, type LoggedRequest, type RunningSandbox } from '../sandbox/server.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

const clients = {
  github: { clientId: 'baton-github-client', clientSecret: 'github-client-secret-123' },
  slack: { clientId: 'baton-slack-client', clientSecret: 'slack-client-secret-456' },
};
const jiraServiceAccount = { email: 'baton@example.com', apiToken: 'jira-api-token-789' };
const crmClient = { clientId: 'baton-crm', clientSecret: 'crm-client-secret-abc' };
const otherCrmClient = { clientId: 'reporting-job', clientSecret: 'reporting-secret-def' };
const redirectUri = 'http://127.0.0.1:53682/oauth/callback';

let sandbox: RunningSandbox;
let idpKey: JWK;

/** Response bodies are free-form JSON in these tests. */
const jsonOf = (response: Response): Promise<any> => response.json();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  idpKey = { ...(await exportJWK(privateKey)), kid: 'crm-test-key', alg: 'ES256' };
  sandbox = await startSandbox({
    clients,
    jiraServiceAccount,
    idp: { signingKeys: [idpKey] },
    crm: {
      clients: [crmClient, otherCrmClient],
      organisationApiKey: 'crm-org-key-0001',
      integrationToken: 'crm-integration-token-0002',
      serviceAccount: { username: 'svc-baton', password: 'svc-password-0003' },
    },
  });
});

afterAll(async () => {
  await sandbox.close();
});

interface CrmResponse {
  status: number;
  body: any;
  headers: Headers;
  /** The request log's entry for this call. */
  logged: LoggedRequest;
}

/** Calls the CRM API and returns the answer with the log entry it produced. */
async function crm(path: string, init: RequestInit = {}): Promise<CrmResponse> {
  const since = await lastLogSeq(sandbox.url);
  const response = await fetch(`${sandbox.url}/crm/api${path}`, init);
  const body = await jsonOf(response);
  const { requests } = await sandboxControl(sandbox.url, `/requests?app=crm&since=${since}`);
  expect(requests).toHaveLength(1);
  return { status: response.status, body, headers: response.headers, logged: requests[0] };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function clientCredentials(client: { clientId: string; clientSecret: string }, how: 'basic' | 'post', scope?: string) {
  const params = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (how === 'basic') {
    headers.Authorization = basic(client.clientId, client.clientSecret);
  } else {
    params.set('client_id', client.clientId);
    params.set('client_secret', client.clientSecret);
  }
  const response = await fetch(`${sandbox.url}/crm/oauth/token`, { method: 'POST', headers, body: params });
  return { status: response.status, body: await jsonOf(response) };
}

/** Authorization code + PKCE at the CRM's own OAuth server, through its sign-in and consent pages. */
async function signInToCrm(user: 'alice' | 'bob'): Promise<Record<string, any>> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/crm/oauth/authorize', sandbox.url);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: crmClient.clientId,
    redirect_uri: redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'state-1',
    scope: 'customers:read notes:write',
  }).toString();
  const callback = await approveConsentOverHttp(url.href, { username: user, password: user }, 'approve');
  const response = await fetch(`${sandbox.url}/crm/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: crmClient.clientId,
      client_secret: crmClient.clientSecret,
    }),
  });
  expect(response.status).toBe(200);
  return jsonOf(response);
}

/** An access token as the identity provider signs them, minted with its key (the test holds it). */
async function idpToken(claims: { sub: string; aud: string; expiresIn?: string | number; key?: JWK }): Promise<string> {
  const key = claims.key ?? idpKey;
  return new SignJWT({ scope: 'openid', client_id: 'baton-web', email: `${claims.sub}@example.com` })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid!, typ: 'at+jwt' })
    .setIssuer(sandbox.idpIssuer)
    .setAudience(claims.aud)
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '5m')
    .sign(await importJWK(key, 'ES256'));
}

describe('the API', () => {
  test('the public status endpoint needs no credential and is logged as kind none', async () => {
    const { status, body, logged } = await crm('/v1/public/status');
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok' });
    expect(logged).toMatchObject({
      app: 'crm',
      method: 'GET',
      path: '/api/v1/public/status',
      query: {},
      credential: { scheme: 'none', presented: null, user: null, valid: false, kind: 'none' },
      status: 200,
    });
  });

  test('a public endpoint still records a credential sent to it anyway', async () => {
    const { status, logged } = await crm('/v1/public/status', { headers: { 'X-Api-Key': sandbox.crm.organisationApiKey } });
    expect(status).toBe(200);
    expect(logged.credential).toMatchObject({ kind: 'api_key_header', user: 'org:acme', valid: true });
  });

  test('customers, me and notes', async () => {
    const headers = { 'X-Api-Key': sandbox.crm.userApiKeys.alice! };
    expect((await crm('/v1/customers/cus_1001', { headers })).body).toEqual({ id: 'cus_1001', name: 'Acme Corp', owner: 'alice', plan: 'enterprise' });
    expect((await crm('/v1/customers/cus_1002', { headers })).body).toEqual({ id: 'cus_1002', name: 'Globex', owner: 'bob', plan: 'pro' });
    const missing = await crm('/v1/customers/cus_9999', { headers });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'not_found', message: 'No customer with id cus_9999.' });
    expect((await crm('/v1/me', { headers })).body).toEqual({ kind: 'api_key_header', subject: 'alice' });

    const created = await crm('/v1/notes', {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ customerId: 'cus_1001', text: 'Renewal call went well.' }),
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^note_\d+$/), customerId: 'cus_1001', text: 'Renewal call went well.', author: 'alice' });
    const { notes } = await sandboxControl(sandbox.url, '/crm/notes');
    expect(notes).toContainEqual({ ...created.body, kind: 'api_key_header' });

    const invalid = await crm('/v1/notes', { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ customerId: 'cus_1001' }) });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toBe('invalid_request');
    const unknown = await crm('/v1/notes', { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ customerId: 'cus_0', text: 'x' }) });
    expect(unknown.status).toBe(404);
  });

  test('POST /v1/notes honours Idempotency-Key', async () => {
    const init = {
      method: 'POST',
      headers: { Authorization: `Bearer ${sandbox.crm.integrationToken}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'note-once' },
      body: JSON.stringify({ customerId: 'cus_1002', text: 'Only once.' }),
    };
    const first = await crm('/v1/notes', init);
    const second = await crm('/v1/notes', init);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.logged).toMatchObject({ idempotencyKey: 'note-once', replayed: true });
    const { notes } = await sandboxControl(sandbox.url, '/crm/notes');
    expect(notes.filter((note: { text: string }) => note.text === 'Only once.')).toHaveLength(1);
  });
});

describe('API keys', () => {
  test('the organisation key in the X-Api-Key header', async () => {
    const { status, body, logged } = await crm('/v1/me', { headers: { 'X-Api-Key': 'crm-org-key-0001' } });
    expect(status).toBe(200);
    expect(body).toEqual({ kind: 'api_key_header', subject: 'org:acme' });
    expect(logged.credential).toEqual({ scheme: 'none', presented: 'crm-org-key-0001', user: 'org:acme', valid: true, kind: 'api_key_header' });
    expect(logged.headers['x-api-key']).toBe('crm-org-key-0001');
  });

  test('the organisation key in the api_key query parameter', async () => {
    const { status, body, logged } = await crm('/v1/customers/cus_1001?api_key=crm-org-key-0001&expand=owner');
    expect(status).toBe(200);
    expect(body.name).toBe('Acme Corp');
    expect(logged).toMatchObject({
      path: '/api/v1/customers/cus_1001',
      query: { api_key: 'crm-org-key-0001', expand: 'owner' },
      credential: { presented: 'crm-org-key-0001', user: 'org:acme', valid: true, kind: 'api_key_query' },
    });
  });

  test("each user's own key is random per sandbox, maps to that user, and is in the issued-secrets list", async () => {
    const { alice, bob } = sandbox.crm.userApiKeys;
    expect(alice).toMatch(/^crm_uk_[\w-]{30,}$/);
    expect(bob).toMatch(/^crm_uk_[\w-]{30,}$/);
    expect(alice).not.toBe(bob);
    expect((await crm('/v1/me', { headers: { 'X-Api-Key': alice! } })).body).toEqual({ kind: 'api_key_header', subject: 'alice' });
    const asBob = await crm(`/v1/me?api_key=${encodeURIComponent(bob!)}`);
    expect(asBob.body).toEqual({ kind: 'api_key_query', subject: 'bob' });
    expect(asBob.logged.credential).toMatchObject({ presented: bob, user: 'bob', kind: 'api_key_query' });

    const { secrets } = await sandboxControl(sandbox.url, '/issued-secrets');
    expect(secrets).toEqual(expect.arrayContaining([alice, bob, 'crm-org-key-0001', 'crm-integration-token-0002', 'svc-password-0003', crmClient.clientSecret]));
    expect(await sandboxControl(sandbox.url, '/crm')).toEqual(sandbox.crm);

    const other = await startSandbox({ clients, jiraServiceAccount });
    try {
      expect(other.crm.userApiKeys.alice).not.toBe(alice);
      expect(other.crm.organisationApiKey).toMatch(/^crm_org_/);
      expect(other.crm.resource).toBe(`${other.url}/crm`);
      const response = await fetch(`${other.url}/crm/api/v1/me`, { headers: { 'X-Api-Key': alice! } });
      expect(response.status).toBe(401);
    } finally {
      await other.close();
    }
  });

  test('a wrong key is refused with 401 and says where it looked', async () => {
    const header = await crm('/v1/me', { headers: { 'X-Api-Key': 'crm-org-key-wrong' } });
    expect(header.status).toBe(401);
    expect(header.body).toEqual({ error: 'invalid_api_key', message: 'The API key in the X-Api-Key header is not a key of this CRM.' });
    expect(header.logged.credential).toEqual({
      scheme: 'none',
      presented: 'crm-org-key-wrong',
      user: null,
      valid: false,
      kind: 'api_key_header',
      refusal: 'invalid_api_key',
    });
    const query = await crm('/v1/me?api_key=nope');
    expect(query.status).toBe(401);
    expect(query.body.message).toBe('The API key in the api_key query parameter is not a key of this CRM.');
  });
});

describe('static bearer and Basic', () => {
  test('the integration token as a bearer token', async () => {
    const { status, body, logged } = await crm('/v1/me', { headers: { Authorization: 'Bearer crm-integration-token-0002' } });
    expect(status).toBe(200);
    expect(body).toEqual({ kind: 'bearer_static', subject: 'integration' });
    expect(logged.credential).toEqual({ scheme: 'bearer', presented: 'crm-integration-token-0002', user: 'integration', valid: true, kind: 'bearer_static' });
  });

  test('the service user by Basic auth; a wrong password is refused with a Basic challenge', async () => {
    const good = await crm('/v1/me', { headers: { Authorization: basic('svc-baton', 'svc-password-0003') } });
    expect(good.body).toEqual({ kind: 'basic', subject: 'service:svc-baton' });
    expect(good.logged.credential).toEqual({ scheme: 'basic', presented: 'svc-baton', user: 'service:svc-baton', valid: true, kind: 'basic' });

    const bad = await crm('/v1/me', { headers: { Authorization: basic('svc-baton', 'guess') } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe('Basic realm="CRM"');
    expect(bad.body).toEqual({ error: 'invalid_basic_credentials', message: 'The service user name or password is wrong.' });
    expect(bad.logged.credential).toMatchObject({ scheme: 'basic', presented: 'svc-baton', user: null, valid: false, kind: 'basic' });
  });
});

describe("OAuth at the CRM's own authorization server", () => {
  test('a user token from authorization code + PKCE acts for that user', async () => {
    const tokens = await signInToCrm('bob');
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'customers:read notes:write', expires_in: 3600 });
    expect(tokens.access_token).toMatch(/^crm_at_/);
    expect(tokens.refresh_token).toMatch(/^crm_rt_/);
    const { body, logged } = await crm('/v1/me', { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(body).toEqual({ kind: 'oauth_user', subject: 'bob' });
    expect(logged.credential).toEqual({ scheme: 'bearer', presented: tokens.access_token, user: 'bob', valid: true, kind: 'oauth_user' });
  });

  test('client credentials, by Basic or in the body: a token of the client itself, with no refresh token', async () => {
    const since = await lastLogSeq(sandbox.url);
    const byBasic = await clientCredentials(crmClient, 'basic', 'customers:read notes:write');
    expect(byBasic.status).toBe(200);
    expect(byBasic.body).toEqual({ access_token: expect.stringMatching(/^crm_at_/), token_type: 'bearer', expires_in: 3600, scope: 'customers:read notes:write' });
    const byPost = await clientCredentials(otherCrmClient, 'post');
    expect(byPost.status).toBe(200);
    expect(byPost.body.scope).toBe('');

    const tokenRequests = (await sandboxControl(sandbox.url, `/requests?app=crm&since=${since}`)).requests as LoggedRequest[];
    expect(tokenRequests.map((entry) => [entry.path, entry.grantType, entry.credential.user])).toEqual([
      ['/oauth/token', 'client_credentials', `client:${crmClient.clientId}`],
      ['/oauth/token', 'client_credentials', `client:${otherCrmClient.clientId}`],
    ]);

    const me = await crm('/v1/me', { headers: { Authorization: `Bearer ${byBasic.body.access_token}` } });
    expect(me.body).toEqual({ kind: 'oauth_client', subject: `client:${crmClient.clientId}` });
    expect(me.logged.credential).toEqual({
      scheme: 'bearer',
      presented: byBasic.body.access_token,
      user: `client:${crmClient.clientId}`,
      valid: true,
      kind: 'oauth_client',
    });
    const note = await crm('/v1/notes', {
      method: 'POST',
      headers: { Authorization: `Bearer ${byPost.body.access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ customerId: 'cus_1003', text: 'Nightly sync.' }),
    });
    expect(note.body.author).toBe(`client:${otherCrmClient.clientId}`);
    expect((await sandboxControl(sandbox.url, '/issued-secrets')).secrets).toEqual(expect.arrayContaining([byBasic.body.access_token, byPost.body.access_token]));
  });

  test('client credentials with a wrong secret or an unknown client are refused', async () => {
    const wrong = await clientCredentials({ ...crmClient, clientSecret: 'nope' }, 'basic');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    const unknown = await clientCredentials({ clientId: 'stranger', clientSecret: 'x' }, 'post');
    expect(unknown.status).toBe(401);
  });

  test('client tokens last accessTokenTtlSeconds, expire with a clear 401, and a new one works', async () => {
    await sandboxControl(sandbox.url, '/settings', { accessTokenTtlSeconds: 1 });
    try {
      const issued = await clientCredentials(crmClient, 'basic');
      expect(issued.body.expires_in).toBe(1);
      expect((await crm('/v1/me', { headers: { Authorization: `Bearer ${issued.body.access_token}` } })).status).toBe(200);
      await sleep(1100);
      const expired = await crm('/v1/me', { headers: { Authorization: `Bearer ${issued.body.access_token}` } });
      expect(expired.status).toBe(401);
      expect(expired.body).toEqual({ error: 'token_expired', message: 'The access token has expired; refresh it, or request a new one.' });
      expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer realm="CRM", error="invalid_token"/);
      expect(expired.logged.credential).toMatchObject({ presented: issued.body.access_token, user: null, valid: false, kind: 'oauth_client', refusal: 'token_expired' });

      const renewed = await clientCredentials(crmClient, 'basic');
      expect(renewed.body.access_token).not.toBe(issued.body.access_token);
      expect((await crm('/v1/me', { headers: { Authorization: `Bearer ${renewed.body.access_token}` } })).status).toBe(200);
    } finally {
      await sandboxControl(sandbox.url, '/settings', { accessTokenTtlSeconds: 3600 });
    }
  });

  test('a revoked user token is refused as revoked; GitHub still has no client credentials grant', async () => {
    const tokens = await signInToCrm('alice');
    expect((await sandboxControl(sandbox.url, '/revoke-user-grants', { app: 'crm', user: 'alice' })).revokedGrants).toBeGreaterThan(0);
    const revoked = await crm('/v1/me', { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error).toBe('token_revoked');
    expect(revoked.logged.credential.kind).toBe('oauth_user');

    const github = await fetch(`${sandbox.url}/github/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(clients.github.clientId, clients.github.clientSecret) },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(github.status).toBe(400);
    expect((await jsonOf(github)).error).toBe('unsupported_grant_type');
  });
});

describe('identity-provider tokens', () => {
  test("a token issued for the CRM's resource is idp_jwt; one for another audience is accepted but marked foreign", async () => {
    const own = await idpToken({ sub: 'alice', aud: sandbox.crm.resource });
    const mine = await crm('/v1/me', { headers: { Authorization: `Bearer ${own}` } });
    expect(mine.body).toEqual({ kind: 'idp_jwt', subject: 'alice' });
    expect(mine.logged.credential).toEqual({ scheme: 'bearer', presented: own, user: 'alice', valid: true, kind: 'idp_jwt' });

    const callers = await idpToken({ sub: 'bob', aud: 'http://127.0.0.1:3000/mcp' });
    const passedThrough = await crm('/v1/me', { headers: { Authorization: `Bearer ${callers}` } });
    expect(passedThrough.status).toBe(200);
    expect(passedThrough.body).toEqual({ kind: 'idp_jwt_foreign_audience', subject: 'bob' });
    expect(passedThrough.logged.credential).toMatchObject({ presented: callers, user: 'bob', kind: 'idp_jwt_foreign_audience' });
  });

  test('an expired or forged identity-provider token is refused', async () => {
    const expired = await crm('/v1/me', { headers: { Authorization: `Bearer ${await idpToken({ sub: 'alice', aud: sandbox.crm.resource, expiresIn: Math.floor(Date.now() / 1000) - 5 })}` } });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: 'token_expired', message: 'The identity-provider token has expired.' });
    expect(expired.logged.credential).toMatchObject({ kind: 'idp_jwt', valid: false, refusal: 'token_expired' });

    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const otherKey = { ...(await exportJWK(privateKey)), kid: 'crm-test-key', alg: 'ES256' };
    const forged = await crm('/v1/me', { headers: { Authorization: `Bearer ${await idpToken({ sub: 'alice', aud: sandbox.crm.resource, key: otherKey })}` } });
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('invalid_token');
    expect(forged.body.message).toMatch(/^The bearer token is not a valid identity-provider token: its signature does not verify/);
  });

  test('with foreignAudienceTokens: reject, a token for another audience gets 401 invalid_audience', async () => {
    const strict = await startSandbox({ clients, jiraServiceAccount, idp: { signingKeys: [idpKey] }, crm: { foreignAudienceTokens: 'reject' } });
    try {
      const key = await importJWK(idpKey, 'ES256');
      const sign = (aud: string) =>
        new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: idpKey.kid!, typ: 'at+jwt' }).setIssuer(strict.idpIssuer).setAudience(aud).setSubject('alice').setExpirationTime('5m').sign(key);
      const foreign = await fetch(`${strict.url}/crm/api/v1/me`, { headers: { Authorization: `Bearer ${await sign('http://127.0.0.1:3000/mcp')}` } });
      expect(foreign.status).toBe(401);
      expect(await jsonOf(foreign)).toEqual({
        error: 'invalid_audience',
        message: `The token was issued for http://127.0.0.1:3000/mcp, not for this CRM (${strict.crm.resource}); exchange it for a CRM token first.`,
      });
      const own = await fetch(`${strict.url}/crm/api/v1/me`, { headers: { Authorization: `Bearer ${await sign(strict.crm.resource)}` } });
      expect(await jsonOf(own)).toEqual({ kind: 'idp_jwt', subject: 'alice' });
    } finally {
      await strict.close();
    }
  });
});

describe('refusals and what the log shows', () => {
  test('no credential, an unknown bearer token, an unsupported scheme, and two credentials at once', async () => {
    const none = await crm('/v1/customers/cus_1001');
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('missing_credentials');
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="CRM"');
    expect(none.logged.credential).toEqual({ scheme: 'none', presented: null, user: null, valid: false, kind: 'none', refusal: 'missing_credentials' });

    const unknown = await crm('/v1/me', { headers: { Authorization: 'Bearer crm_at_never-issued' } });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ error: 'invalid_token', message: 'The bearer token is not one this CRM issued or accepts.' });
    expect(unknown.logged.credential).toMatchObject({ presented: 'crm_at_never-issued', kind: 'bearer_unknown', valid: false });

    const scheme = await crm('/v1/me', { headers: { Authorization: 'Token crm-integration-token-0002' } });
    expect(scheme.status).toBe(401);
    expect(scheme.body).toEqual({ error: 'unsupported_scheme', message: 'Authorization scheme "Token" is not supported; use Bearer or Basic.' });
    expect(scheme.logged.credential.kind).toBe('unsupported_scheme');

    const two = await crm('/v1/me?api_key=crm-org-key-0001', { headers: { Authorization: 'Bearer crm-integration-token-0002' } });
    expect(two.status).toBe(401);
    expect(two.body).toEqual({
      error: 'multiple_credentials',
      message: 'Send exactly one credential; this request carried 2 (Authorization header, api_key query parameter).',
    });
    expect(two.logged.credential).toMatchObject({ kind: 'multiple', valid: false });
  });

  test('every request header is logged, lower-cased, so extra and forbidden headers can be checked', async () => {
    const { logged } = await crm('/v1/customers/cus_1002', {
      headers: { 'X-Api-Key': sandbox.crm.userApiKeys.bob!, 'X-Baton-User': 'bob', 'X-Forwarded-Token': 'fwd-123', 'X-Request-Id': 'req-1' },
    });
    expect(logged.headers).toMatchObject({ 'x-api-key': sandbox.crm.userApiKeys.bob, 'x-baton-user': 'bob', 'x-forwarded-token': 'fwd-123', 'x-request-id': 'req-1' });
    expect(logged.headers).toHaveProperty('host');
    for (const forbidden of ['cookie', 'authorization', 'x-internal-secret']) expect(logged.headers).not.toHaveProperty(forbidden);

    const withCookie = await crm('/v1/public/status', { headers: { Cookie: 'session=abc', 'X-Internal-Secret': 's3' } });
    expect(withCookie.logged.headers).toMatchObject({ cookie: 'session=abc', 'x-internal-secret': 's3' });
  });

  test('the app filter, delays and unknown paths', async () => {
    const { requests } = (await sandboxControl(sandbox.url, '/requests?app=crm')) as { requests: LoggedRequest[] };
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((entry) => entry.app === 'crm')).toBe(true);

    await sandboxControl(sandbox.url, '/delay', { app: 'crm', pathPrefix: '/api/v1/public', ms: 150 });
    const started = Date.now();
    expect((await crm('/v1/public/status')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const missing = await crm('/v2/nothing', { headers: { 'X-Api-Key': 'crm-org-key-0001' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('not_found');
  });
});
