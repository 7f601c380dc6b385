/** Who may call /mcp: bearer JWTs from the identity provider, API tokens, and every way to get it wrong. */
import { exportJWK, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { ApiTokenStore } from '../core/api-tokens/api-token-store.ts';
import { createLogger } from '../gateway/logger.ts';
import { serveGateway } from '../gateway/serve.ts';
import { tools } from '../workflows/catalog.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp, toolsCall } from './support/mcp-http.ts';
import { runsOf } from './support/runs.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started));

const now = () => Math.floor(Date.now() / 1000);

async function idpSigned(claims: Record<string, unknown>, options: { key?: JWK; kid?: string } = {}): Promise<string> {
  const key = options.key ?? gs.idpKey;
  return new SignJWT({ scope: 'openid mcp:tools', email: 'alice@example.com', tenant: 'acme', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? gs.idpKey.kid!, typ: 'at+jwt' })
    .sign(await importJWK(key, 'ES256'));
}

const validClaims = () => ({ iss: gs.stack.sandbox.idpIssuer, aud: gs.mcpUrl, sub: 'alice', iat: now(), exp: now() + 600 });

test('a token signed with the identity provider key and the right claims is accepted (the baseline the attacks vary)', async () => {
  const answer = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${await idpSigned(validClaims())}` });
  expect(answer.status).toBe(200);
  expect(answer.json.result.tools.map((t: { name: string }) => t.name)).toContain('triage_pull_request');
});

test('no token: 401 with the RFC 9728 metadata URL, which names the identity provider', async () => {
  const answer = await postMcp(gs.mcpUrl, toolsCall('read_pull_request', { repo: 'acme/widgets', number: 1 }));
  expect(answer.status).toBe(401);
  const metadataUrl = `${gs.url}/.well-known/oauth-protected-resource/mcp`;
  expect(answer.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);
  expect(answer.json.error_description).toContain('needs a bearer token');
  for (const url of [metadataUrl, `${gs.url}/.well-known/oauth-protected-resource`]) {
    const metadata = await (await fetch(url)).json();
    expect(metadata).toMatchObject({ resource: gs.mcpUrl, authorization_servers: [gs.stack.sandbox.idpIssuer], scopes_supported: ['mcp:tools'] });
  }
});

test.each([
  ['malformed', async () => 'abc.def', /not a well-formed signed JWT/],
  ['expired', async () => idpSigned({ ...validClaims(), iat: now() - 7200, exp: now() - 3600 }), /has expired/],
  ['not yet valid', async () => idpSigned({ ...validClaims(), nbf: now() + 3600 }), /not valid yet/],
  ['wrong issuer', async () => idpSigned({ ...validClaims(), iss: 'http://127.0.0.1:1/evil-idp' }), /accepts tokens from/],
  ['wrong audience', async () => idpSigned({ ...validClaims(), aud: 'http://127.0.0.1:1/other-mcp' }), /not for this server/],
  ['alg none', async () => new UnsecuredJWT(validClaims()).encode(), /algorithm "none"/],
  [
    'HS256 signed with the public key',
    async () => {
      const { d: _private, ...publicJwk } = gs.idpKey;
      return new SignJWT(validClaims()).setProtectedHeader({ alg: 'HS256', kid: gs.idpKey.kid! }).sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    },
    /algorithm "HS256"/,
  ],
  ['unknown kid', async () => idpSigned(validClaims(), { kid: 'no-such-key' }), /"no-such-key" is not one the identity provider publishes/],
  [
    'signature from another key',
    async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      return idpSigned(validClaims(), { key: await exportJWK(privateKey) });
    },
    /signature does not match/,
  ],
])('%s token: 401, a clear reason, and no run started', async (_name, makeToken, reason) => {
  const answer = await postMcp(gs.mcpUrl, toolsCall('read_pull_request', { repo: 'acme/widgets', number: 1 }), { authorization: `Bearer ${await makeToken()}` });
  expect(answer.status).toBe(401);
  expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", resource_metadata="/);
  expect(answer.json.error_description).toMatch(reason);
  expect(await runsOf(gs.stack, 'read_pull_request')).toEqual([]);
});

test('a token without the mcp:tools scope gets 403 insufficient_scope (step-up)', async () => {
  const answer = await postMcp(gs.mcpUrl, toolsCall('read_pull_request', { repo: 'acme/widgets', number: 1 }), { authorization: `Bearer ${await gs.tokenFor('alice', 'openid profile')}` });
  expect(answer.status).toBe(403);
  expect(answer.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="mcp:tools"/);
  expect(await runsOf(gs.stack, 'read_pull_request')).toEqual([]);
});

test('JWKS endpoint down: every token is refused with a clear 503, never accepted', async () => {
  const keysDown = await serveGateway({
    env: { ...gs.gatewayEnv, PORT: '0', BATON_PUBLIC_URL: undefined, BATON_IDP_JWKS_URL: 'http://127.0.0.1:9/jwks' },
    tools,
    log: createLogger({ level: 'silent' }),
  });
  try {
    const token = await idpSigned({ ...validClaims(), aud: keysDown.mcpUrl });
    const answer = await postMcp(keysDown.mcpUrl, toolsCall('read_pull_request', { repo: 'acme/widgets', number: 1 }), { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(503);
    expect(answer.json.error_description).toMatch(/identity provider's keys at http:\/\/127\.0\.0\.1:9\/jwks could not be fetched/);
    const readiness = await fetch(`${keysDown.url}/readyz`);
    expect(readiness.status).toBe(503);
    expect(((await readiness.json()) as { checks: unknown }).checks).toMatchObject({ temporal: 'ok', database: 'ok', jwks: expect.stringMatching(/^failing/) });
    expect(await runsOf(gs.stack, 'read_pull_request')).toEqual([]);
  } finally {
    await keysDown.close();
  }
});

test('an API token caller lists and runs service-account tools only, and a revoked token gets 401', async () => {
  const apiTokens = new ApiTokenStore(gs.stack.stores.db);
  const { token } = await apiTokens.create('ci-nightly', { tenant: 'acme' });
  const client = await gs.connect(token);
  const { tools: listed } = await client.listTools();
  expect(listed.map((t) => t.name).sort()).toEqual(['get_run_result', 'open_ops_ticket', 'probe_formats']);

  const filed = await client.callTool({ name: 'open_ops_ticket', arguments: { summary: 'Nightly build failed' } });
  expect(filed.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-\d+$/) });

  await expect(client.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } })).rejects.toMatchObject({
    code: -32602,
    message: expect.stringContaining(
      'API-token callers have no personal connections; use OAuth sign-in or a service-account tool. ("triage_pull_request" acts with each caller\'s own GitHub and Slack connection.)',
    ),
  });
  await client.close();

  expect(await apiTokens.revoke('ci-nightly')).toBe(true);
  const revoked = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${token}` });
  expect(revoked.status).toBe(401);
  expect(revoked.json.error_description).toContain('unknown or has been revoked');
});

test('readiness and liveness', async () => {
  expect((await fetch(`${gs.url}/healthz`)).status).toBe(200);
  const ready = await fetch(`${gs.url}/readyz`);
  expect(await ready.json()).toEqual({ status: 'ready', checks: { temporal: 'ok', database: 'ok', jwks: 'ok' }, checkedAt: expect.any(String) });
});
