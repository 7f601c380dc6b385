/**
 * The audit trail through the gateway: after the demo tool, the API and `baton audit` answer "who made
 * that change?" with alice; each user reads only their own records (API and CLI); the owner reads everyone's.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AuditRecord } from '../core/audit/audit-event.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { alice, bob } from './support/identities.ts';

const config = `servers:
  default:
    tools: "*"
    access: { users: ["*"] }
roles:
  alice: owner
  bob: viewer
`;

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), { config });

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));
let tokens: { alice: string; bob: string };
let demo: { runId: string; jiraKey: string; slackMessageUrl: string; commentUrl: string };

function cli(token: string, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [baton, 'audit', ...args], { env: { ...gs.gatewayEnv, BATON_URL: gs.url, BATON_TOKEN: token } }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function api<T>(token: string, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${gs.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, body: (response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text) as T };
}

beforeAll(async () => {
  tokens = { alice: await gs.tokenFor('alice'), bob: await gs.tokenFor('bob') };
  for (const user of [alice, bob]) for (const app of ['github', 'slack']) await gs.stack.consent(user, app);
  for (const [name, token] of Object.entries(tokens)) {
    const client = await gs.connect(token);
    const answer = await client.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
    await client.close();
    if (name === 'alice') demo = { ...(answer.structuredContent as typeof demo), runId: String((answer._meta as Record<string, unknown>)['baton/runId']) };
  }
});

test("the run's records: the tool call's start and end, one record per app call, each with the person, client, server, path and credential", async () => {
  const { status, body } = await api<{ records: AuditRecord[] }>(tokens.alice, `/api/audit?run=${demo.runId}&limit=50`);
  expect(status).toBe(200);
  const records = [...body.records].reverse();
  expect(records.map((record) => [record.kind, record.app, record.action, record.outcome])).toEqual([
    ['tool_call.started', null, null, 'started'],
    ['app_call', 'github', 'pulls.get', 'ok'],
    ['app_call', 'slack', 'chat.postMessage', 'ok'],
    ['app_call', 'slack', 'chat.getPermalink', 'ok'],
    ['app_call', 'jira', 'issues.create', 'ok'],
    ['app_call', 'github', 'issues.createComment', 'ok'],
    ['tool_call.finished', null, null, 'completed'],
  ]);
  for (const record of records) {
    expect(record.actor).toEqual({ tenant: 'acme', subject: 'alice', email: 'alice@example.com', name: expect.any(String), authMethod: 'oauth' });
    expect(record).toMatchObject({ server: 'default', tool: 'triage_pull_request', rootRunId: demo.runId, client: expect.any(String) });
  }
  const appCalls = records.filter((record) => record.kind === 'app_call');
  expect(appCalls.map((record) => [record.credential?.owner, record.runPath.length])).toEqual([
    ['user', 2],
    ['user', 2],
    ['user', 2],
    ['service_account', 2],
    ['user', 1],
  ]);
  expect(appCalls.every((record) => record.upstreamStatus! >= 200 && record.upstreamStatus! < 300 && record.durationMs! >= 0)).toBe(true);
});

test('"who made that change?" for the Jira ticket, the Slack message and the GitHub comment: alice, when, the run path and the credential', async () => {
  const messageTs = /\/p(\d+)(\d{6})$/.exec(demo.slackMessageUrl)!.slice(1).join('.');
  const commentId = /issuecomment-(\d+)$/.exec(demo.commentUrl)![1]!;
  for (const [app, object, credential] of [
    ['jira', demo.jiraKey, 'service_account'],
    ['slack', messageTs, 'user'],
    ['github', `comment:${commentId}`, 'user'],
  ] as const) {
    const { status, body } = await api<{ changes: Array<{ person: { subject: string }; at: string; runPath: string[]; credential: { owner: string } }> }>(
      tokens.alice,
      `/api/audit/who?app=${app}&object=${encodeURIComponent(object)}`,
    );
    expect(status).toBe(200);
    expect(body.changes).toHaveLength(1);
    expect(body.changes[0]).toMatchObject({ person: { subject: 'alice' }, at: expect.stringMatching(/^\d{4}-/), credential: { owner: credential } });
    expect(body.changes[0]!.runPath[0]).toBe(demo.runId);
  }
  // The CLI says it in words.
  const who = await cli(tokens.alice, 'who', '--app', 'jira', '--object', demo.jiraKey);
  expect(who.status).toBe(0);
  expect(who.stdout).toContain('(alice, signed in with oauth)');
  expect(who.stdout).toMatch(/jira issues\.create in tool triage_pull_request, as the service account/);
  expect(who.stdout).toContain(`run path: ${demo.runId} > ${demo.runId}/notify_team-2`);
});

test("bob cannot read alice's records through the API: his own only, and asking for hers is refused and recorded", async () => {
  const own = await api<{ records: AuditRecord[] }>(tokens.bob, '/api/audit?limit=1000');
  expect(own.status).toBe(200);
  expect(own.body.records.length).toBeGreaterThan(0);
  expect(own.body.records.every((record) => record.actor.subject === 'bob')).toBe(true);
  expect((await api(tokens.bob, `/api/audit?run=${demo.runId}`)).body).toEqual({ records: [], next: null });

  const refused = await api<{ message: string }>(tokens.bob, '/api/audit?user=alice');
  expect(refused.status).toBe(403);
  expect(refused.body.message).toBe("You can read only your own audit records (bob); everyone's needs the owner or admin role.");
  // "Who made that change?" shows bob nothing of alice's either.
  expect((await api<{ changes: unknown[] }>(tokens.bob, `/api/audit/who?app=jira&object=${demo.jiraKey}`)).body.changes).toEqual([]);
  const export_ = await api<string>(tokens.bob, '/api/audit/export');
  expect(
    export_.body
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as AuditRecord).actor.subject),
  ).not.toContain('alice');

  // The refusal is itself on the trail, for the owner to see.
  const denied = await api<{ records: AuditRecord[] }>(tokens.alice, '/api/audit?user=bob&kind=access.denied');
  expect(denied.body.records[0]).toMatchObject({ actor: { subject: 'bob' }, outcome: 'denied', detail: { askedFor: 'alice' } });
});

test("the owner reads everyone's records, filtered by user, app, tool, outcome and time", async () => {
  const bobsGithub = await api<{ records: AuditRecord[] }>(tokens.alice, '/api/audit?user=bob&app=github&kind=app_call&since=1h');
  expect(bobsGithub.status).toBe(200);
  expect(bobsGithub.body.records.map((record) => record.action).sort()).toEqual(['issues.createComment', 'pulls.get']);
  expect(bobsGithub.body.records.every((record) => record.actor.subject === 'bob' && record.app === 'github')).toBe(true);
  expect((await api<{ records: AuditRecord[] }>(tokens.alice, '/api/audit?tool=triage_pull_request&kind=tool_call.finished&outcome=completed')).body.records).toHaveLength(2);
  expect((await api<{ records: AuditRecord[] }>(tokens.alice, `/api/audit?until=${Date.now() - 3_600_000}`)).body.records).toEqual([]);
  const paged = await api<{ records: AuditRecord[]; next: { before: number } }>(tokens.alice, '/api/audit?limit=2');
  const nextPage = await api<{ records: AuditRecord[] }>(tokens.alice, `/api/audit?limit=2&before=${paged.body.next.before}`);
  expect(nextPage.body.records[0]!.seq).toBe(paged.body.records[1]!.seq - 1);
});

test('bad filters get a clear 400 naming the filter', async () => {
  expect(await api(tokens.alice, '/api/audit?since=yesterdayish')).toEqual({ status: 400, body: { error: 'invalid_request', message: expect.stringContaining('"yesterdayish" is not a time') } });
  expect(await api(tokens.alice, '/api/audit?colour=red')).toEqual({ status: 400, body: { error: 'invalid_request', message: expect.stringMatching(/^Bad audit filter colour: /) } });
  expect(await api(tokens.alice, '/api/audit?kind=app_calls')).toEqual({ status: 400, body: { error: 'invalid_request', message: expect.stringMatching(/^Bad audit filter kind: /) } });
  expect((await fetch(`${gs.url}/api/audit`)).status).toBe(401);
});

test('baton audit: a table or JSON for alice; bob asking for alice is refused; export is JSON Lines with the chain', async () => {
  const table = await cli(tokens.alice, '--user', 'alice', '--app', 'github', '--since', '1h');
  expect(table.status).toBe(0);
  const [header, ...rows] = table.stdout.trim().split('\n');
  expect(header).toMatch(/^TIME +PERSON +EVENT +TOOL +APP ACTION +CREDENTIAL +OUTCOME +STATUS +MS +RUN$/);
  // Oldest first: connecting GitHub, then the run's two GitHub calls.
  expect(rows).toEqual([
    expect.stringMatching(/^\S+Z +alice +connection\.connected +- +github +own:alice +ok +- +- +-$/),
    expect.stringMatching(new RegExp(`^\\S+Z +alice +app_call +triage_pull_request +github pulls\\.get +own:alice +ok +200 +\\d+ +${demo.runId}$`)),
    expect.stringMatching(new RegExp(`^\\S+Z +alice +app_call +triage_pull_request +github issues\\.createComment +own:alice +ok +201 +\\d+ +${demo.runId}$`)),
  ]);

  const json = await cli(tokens.alice, '--run', demo.runId, '--kind', 'app_call', '--json');
  expect((JSON.parse(json.stdout) as AuditRecord[]).map((record) => record.app)).toEqual(['github', 'jira', 'slack', 'slack', 'github']);

  const refused = await cli(tokens.bob, '--user', 'alice');
  expect(refused).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('403: You can read only your own audit records (bob)') });
  const bobsOwn = await cli(tokens.bob, '--json', '--limit', '1000');
  expect((JSON.parse(bobsOwn.stdout) as AuditRecord[]).every((record) => record.actor.subject === 'bob')).toBe(true);

  const exported = await cli(tokens.alice, 'export', '--run', demo.runId);
  const records = exported.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRecord);
  expect(records.map((record) => record.kind)).toEqual(['tool_call.started', 'app_call', 'app_call', 'app_call', 'app_call', 'app_call', 'tool_call.finished']);
  expect(records.every((record) => /^[\w-]{43}$/.test(record.hash) && record.seq > 0)).toBe(true);

  expect(await cli('', '--user', 'alice')).toMatchObject({ status: 1, stderr: expect.stringContaining('no token: set BATON_TOKEN') });
});

test('admin changes through the API are recorded with who made them', async () => {
  const response = await fetch(`${gs.url}/admin/servers/default/access`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'user', value: 'carol' }),
  });
  expect(response.status).toBe(201);
  const forbidden = await fetch(`${gs.url}/admin/api-tokens`, { method: 'POST', headers: { authorization: `Bearer ${tokens.bob}`, 'content-type': 'application/json' }, body: '{"name":"x"}' });
  expect(forbidden.status).toBe(403);
  const { body } = await api<{ records: AuditRecord[] }>(tokens.alice, '/api/audit?since=1m&limit=20');
  expect(body.records.find((record) => record.kind === 'admin.change')).toMatchObject({
    actor: { subject: 'alice' },
    action: 'access.grant',
    detail: { list: 'default', kind: 'user', value: 'carol' },
  });
  expect(body.records.find((record) => record.kind === 'access.denied' && record.actor.subject === 'bob')).toMatchObject({
    action: 'POST /admin/api-tokens',
    message: 'Creating API tokens needs the owner or admin role',
  });
});
