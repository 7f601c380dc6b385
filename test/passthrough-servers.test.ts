/** Passthrough MCP servers: what the caller sends is forwarded; with JWT validation on, a missing or invalid token is refused. */
import type { LoggedRequest, RunningSandbox } from '../sandbox/server.ts';
import { anonymousSubject } from '../gateway/http/passthrough-auth.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp, toolsCall } from './support/mcp-http.ts';
import { runsOf } from './support/runs.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), {
  config: (sandbox: RunningSandbox) => ({
    yaml: `
apps:
  crm:
    credential: { mode: passthrough, trustedIssuers: [${sandbox.idpIssuer}, unverified] }
tools:
  crm_probe_none:
    credentials: { crm: { mode: passthrough, trustedIssuers: [${sandbox.idpIssuer}], audience: https://crm.other.example } }
servers:
  default:
    tools: "*"
    access: { users: ["*"] }
  open:
    tools: [crm_probe_bearer, triage_pull_request]
    auth: { mode: passthrough }
    access: { users: [anonymous] }
  checked:
    tools: [crm_probe_bearer, crm_probe_none]
    auth: { mode: passthrough, jwt: { jwksUrl: ${sandbox.idpIssuer}/jwks, issuer: ${sandbox.idpIssuer}, audience: ${sandbox.crm.resource} } }
    access: { users: [alice] }
`,
  }),
});

const crmCalls = async (since: number) =>
  ((await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] }).requests.filter((r) => r.path.startsWith('/api/'));

test('without validation: the caller is anonymous, its token goes to the app that trusts unverified tokens, and it has no personal connections', async () => {
  const url = `${gs.url}/mcp/open`;
  // A token minted for the CRM, as a passthrough server's client sends for the app behind it: a token for Baton itself is never forwarded.
  const token = await gs.tokenFor('alice', undefined, gs.stack.sandbox.crm.resource);
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const answer = await postMcp(url, toolsCall('crm_probe_bearer', {}), { authorization: `Bearer ${token}` });
  expect(answer.json.result.structuredContent).toEqual({ customer: 'Acme Corp', noteAuthor: 'alice' });
  for (const call of await crmCalls(since)) expect(call.credential.presented).toBe(token);

  // alice's token for Baton itself, sent to the same unvalidating server: never handed to the CRM (security, attack 1).
  const sinceBaton = await lastLogSeq(gs.stack.sandbox.url);
  const batonAnswer = await postMcp(url, toolsCall('crm_probe_bearer', {}), { authorization: `Bearer ${await gs.tokenFor('alice')}` });
  expect(JSON.stringify(batonAnswer.json.result)).toMatch(/anonymous:[0-9a-f]{16}'s token was issued for Baton itself/);
  expect(await crmCalls(sinceBaton)).toEqual([]);

  const list = await postMcp(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, {});
  expect(list.json.result.tools.map((t: { name: string }) => t.name)).toEqual(['crm_probe_bearer', 'get_run_result']);
  const refused = await postMcp(url, toolsCall('triage_pull_request', { repo: 'acme/widgets', number: 1 }), {});
  expect(refused.json.error.message).toContain('Unverified callers of a passthrough server have no personal connections');
  expect(await runsOf(gs.stack, 'triage_pull_request')).toEqual([]);

  // Security, attack 6: two unverified callers are two people to Baton. bob's identical call is his own run
  // (his token, his result), keyed on a digest of his credential: no re-attaching to alice's run, no shared
  // requestState, no shared rate-limit bucket.
  const bobToken = await gs.tokenFor('bob', undefined, gs.stack.sandbox.crm.resource);
  const bobAnswer = await postMcp(url, toolsCall('crm_probe_bearer', {}), { authorization: `Bearer ${bobToken}` });
  expect(bobAnswer.json.result.structuredContent).toEqual({ customer: 'Acme Corp', noteAuthor: 'bob' });
  const subjects = (await gs.stack.stores.db.all<{ workflow_id: string; subject: string }>("SELECT workflow_id, subject FROM gateway_runs WHERE tool = 'crm_probe_bearer'")).map((row) => row.subject);
  const bySubject = new Set(subjects);
  expect(bySubject.has(anonymousSubject(token)) && bySubject.has(anonymousSubject(bobToken))).toBe(true);
  expect(anonymousSubject(token)).not.toBe(anonymousSubject(bobToken));
  expect(String(answer.json.result._meta['baton/runId'])).not.toBe(String(bobAnswer.json.result._meta['baton/runId']));

  const nothingToForward = await postMcp(url, toolsCall('crm_probe_bearer', {}), {});
  expect(nothingToForward.json.result.isError).toBe(true);
  expect(nothingToForward.json.result.content[0].text).toContain("CRM is given the caller's own token, but the caller sent no token to pass on");
});

test('with validation: no token or a bad one is refused before anything runs; a valid one identifies the caller and is forwarded', async () => {
  const url = `${gs.url}/mcp/checked`;
  expect((await postMcp(url, toolsCall('crm_probe_bearer', {}), {})).status).toBe(401);
  const forged = await postMcp(url, toolsCall('crm_probe_bearer', {}), { authorization: 'Bearer abc.def.ghi' });
  expect(forged.status).toBe(401);
  expect(forged.json.error_description).toContain('not a well-formed signed JWT');
  expect(await runsOf(gs.stack, 'crm_probe_bearer')).toHaveLength(4); // only the four unvalidated calls above

  const token = await gs.tokenFor('alice', undefined, gs.stack.sandbox.crm.resource);
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const answer = await postMcp(url, toolsCall('crm_probe_bearer', {}), { authorization: `Bearer ${token}` });
  expect(answer.json.result.structuredContent).toEqual({ customer: 'Acme Corp', noteAuthor: 'alice' });
  for (const call of await crmCalls(since)) expect(call.credential).toMatchObject({ presented: token, user: 'alice' });

  // alice's token for Baton itself: the server accepts tokens for the CRM only (jwt.audience), so it is refused at the door.
  const batonToken = await gs.tokenFor('alice');
  const sinceBaton = await lastLogSeq(gs.stack.sandbox.url);
  expect((await postMcp(url, toolsCall('crm_probe_bearer', {}), { authorization: `Bearer ${batonToken}` })).status).toBe(401);
  expect(await crmCalls(sinceBaton)).toEqual([]);

  // With an audience configured, only tokens issued for it are forwarded.
  const elsewhere = await postMcp(url, toolsCall('crm_probe_none', {}), { authorization: `Bearer ${token}` });
  expect(JSON.stringify(elsewhere.json.result)).toContain("Baton does not forward alice's token to CRM: it was not issued for https://crm.other.example");
  expect(await crmCalls(sinceBaton)).toEqual([]);
  const bob = await postMcp(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${await gs.tokenFor('bob', undefined, gs.stack.sandbox.crm.resource)}` });
  expect(bob.json.result.tools).toEqual([]);
});
