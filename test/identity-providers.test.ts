/**
 * Several identity providers at once, each mapped to tenant and groups by its own claims — and, for any provider
 * but the home one, only through the operator's tables (issue 15, attack 5): what it asserts is otherwise its own.
 */
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { GatewayStack } from './support/gateway-stack.ts';
import { postMcp, toolsCall } from './support/mcp-http.ts';

const partnerIssuer = 'https://login.partner.example/realms/globex';
let partnerKey: JWK;
let gs: GatewayStack;

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  partnerKey = { ...(await exportJWK(privateKey)), kid: 'partner-1', alg: 'RS256' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicKey } = partnerKey;
  gs = await GatewayStack.start({
    config: `
identityProviders:
  - issuer: ${partnerIssuer}
    jwks: { keys: [${JSON.stringify(publicKey)}] }
    tenantClaim: org
    groupsClaim: teams
    tenantMap: { globex: globex }
    groupMap: { platform: platform }
servers:
  default:
    tools: "*"
    access: { users: [alice], groups: [platform] }
tools:
  triage_pull_request:
    access: { users: [alice], groups: [engineering] }
`,
  });
}, 120_000);

afterAll(async () => {
  await gs?.close();
});

const partnerToken = async (claims: Record<string, unknown>, issuer = partnerIssuer) =>
  new SignJWT({ scope: 'mcp:tools', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'partner-1' })
    .setIssuer(issuer)
    .setAudience(gs.mcpUrl)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(await importJWK(partnerKey, 'RS256'));

const toolNames = async (token: string) => {
  const answer = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${token}` });
  return { status: answer.status, names: (answer.json.result?.tools ?? []).map((t: { name: string }) => t.name) as string[], answer };
};

test("a second provider's user gets the tenant and groups its mapped claims name, and no e-mail", async () => {
  const carol = await partnerToken({ sub: 'carol', email: 'carol@globex.example', org: 'globex', teams: ['platform'] });
  expect((await toolNames(carol)).names).toContain('read_pull_request');
  const paused = await postMcp(gs.mcpUrl, toolsCall('read_pull_request', { repo: 'acme/widgets', number: 1 }), { authorization: `Bearer ${carol}` });
  expect(paused.json.result.structuredContent).toMatchObject({ status: 'auth_required' });
  const run = await gs.stack.stores.db.get<{ workflow_id: string; tenant: string; subject: string }>('SELECT workflow_id, tenant, subject FROM gateway_runs ORDER BY created_at DESC LIMIT 1');
  expect(run).toMatchObject({ tenant: 'globex', subject: `${partnerIssuer}#carol` });
  // Attack 5: the e-mail only the partner asserted is neither kept for the run nor written to the audit trail.
  const records = await gs.stack.stores.audit.forRun(run!.workflow_id);
  expect(records.length).toBeGreaterThan(0);
  expect(records.map((record) => record.actor.email)).toEqual(records.map(() => null));
  expect(JSON.stringify(records)).not.toContain('carol@globex.example');
});

test("another provider cannot assert an existing user's id, e-mail, tenant or groups: what it asserts is its own", async () => {
  // "alice" from the partner is not the sandbox's alice: not on alice's list, and not alice in any store.
  const fakeAlice = await partnerToken({ sub: 'alice', email: 'alice@example.com', org: 'acme' });
  expect(await toolNames(fakeAlice)).toMatchObject({ status: 200, names: [] });
  // Tenant acme and group engineering are the home provider's: unmapped, the partner's are `<issuer>#acme` and `<issuer>#engineering`.
  const admitted = await partnerToken({ sub: 'alice', org: 'acme', teams: ['platform', 'engineering'] });
  const names = (await toolNames(admitted)).names;
  expect(names).toContain('read_pull_request'); // through the mapped group platform
  expect(names).not.toContain('triage_pull_request'); // engineering's tool: the partner's "engineering" is not Baton's
  await postMcp(gs.mcpUrl, toolsCall('read_pull_request', { repo: 'acme/widgets', number: 1 }), { authorization: `Bearer ${admitted}` });
  const run = await gs.stack.stores.db.get<{ tenant: string; subject: string }>('SELECT tenant, subject FROM gateway_runs ORDER BY created_at DESC LIMIT 1');
  expect(run).toEqual({ tenant: `${partnerIssuer}#acme`, subject: `${partnerIssuer}#alice` });
});

test('groups come from the mapped claim only: another team sees nothing', async () => {
  const dave = await partnerToken({ sub: 'dave', org: 'globex', teams: ['sales'], groups: ['platform'] });
  expect(await toolNames(dave)).toMatchObject({ status: 200, names: [] });
});

test('the first provider still works alongside', async () => {
  expect((await toolNames(await gs.tokenFor('alice'))).names).toContain('triage_pull_request');
});

test("a token signed with one provider's key but naming another issuer, or an unknown issuer, is refused", async () => {
  const forged = await toolNames(await partnerToken({ sub: 'alice', teams: ['platform'] }, gs.stack.sandbox.idpIssuer));
  expect(forged.status).toBe(401);
  const unknown = await toolNames(await partnerToken({ sub: 'eve' }, 'https://idp.unknown.example'));
  expect(unknown.status).toBe(401);
  expect(unknown.answer.json.error_description).toContain(`accepts tokens from ${gs.stack.sandbox.idpIssuer}, ${partnerIssuer} only`);
});
