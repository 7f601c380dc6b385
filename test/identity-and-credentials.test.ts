/**
 * Issue 2, points 1 and 2: the caller's identity reaches depth 3 unchanged, and every app call carries
 * that caller's own credential (or the service account where configured), checked at the app.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { IDENTITY_HEADER, MESSAGE_HEADER } from '../core/identity/context.ts';
import { actingAs } from '../gateway/temporal/identity-propagation.ts';
import { awaitOutcomeUpdate, consentDecisionSignal } from '../workflows/protocol.ts';
import { commentOnPullRequest } from './fixtures/probe-tools.ts';
import { triagePullRequest } from '../workflows/tools/triage-pull-request.ts';
import { continueThenCall, probeIdentity, undeclaredAppCall } from './fixtures/probe-tools.ts';
import { alice, bob } from './support/identities.ts';
import { Stack } from './support/stack.ts';

interface LoggedRequest {
  app: string;
  method: string;
  path: string;
  credential: { scheme: string; presented: string | null; user: string | null; valid: boolean };
}

let stack: Stack;

beforeAll(async () => {
  stack = await Stack.start();
  for (const user of [alice, bob]) {
    await stack.consent(user, 'github');
    await stack.consent(user, 'slack');
  }
}, 120_000);

afterAll(async () => stack?.close());

async function requestsSince(seq: number): Promise<LoggedRequest[]> {
  const { requests } = await stack.sandboxGet<{ requests: LoggedRequest[] }>(`/_sandbox/requests?since=${seq}`);
  return requests;
}

async function lastSeq(): Promise<number> {
  const { requests } = await stack.sandboxGet<{ requests: Array<{ seq: number }> }>('/_sandbox/requests');
  return requests.at(-1)?.seq ?? 0;
}

test('the identity seen at depth 3 equals the caller, field by field, and cannot be changed by workflow code', async () => {
  const handle = await stack.run(alice, probeIdentity, {});
  const seen = (await handle.result()) as { identity: unknown; githubLogin: string; mutation: string; workflowId: string };
  expect(seen.identity).toEqual(alice);
  expect(seen.githubLogin).toBe('alice');
  expect(seen.mutation).toBe('refused');
  expect(seen.workflowId).toBe(`${handle.workflowId}/probe_level_two-1/probe_level_three-1`);

  const [record] = await stack.stores.audit.forRun(handle.workflowId);
  expect(record).toMatchObject({
    kind: 'app_call',
    actor: { subject: 'alice', email: 'alice@example.com', tenant: 'acme', authMethod: 'oauth' },
    tool: 'probe_identity',
    rootRunId: handle.workflowId,
    runPath: [handle.workflowId, `${handle.workflowId}/probe_level_two-1`, seen.workflowId],
    app: 'github',
    credential: { mode: 'user_oauth', owner: 'user', externalAccount: 'alice', reason: 'apps.github.credential: user_oauth' },
    outcome: 'ok',
    upstreamStatus: 200,
  });
});

test('identity survives continue-as-new', async () => {
  const handle = await stack.run(bob, continueThenCall, {});
  const seen = (await handle.result()) as { identity: unknown; githubLogin: string };
  expect(seen.identity).toEqual(bob);
  expect(seen.githubLogin).toBe('bob');
});

test('alice and bob each run the demo tool with their own tokens; Jira gets the service account', async () => {
  const since = await lastSeq();
  const [aliceRun, bobRun] = await Promise.all([stack.run(alice, triagePullRequest, { repo: 'acme/widgets', number: 1 }), stack.run(bob, triagePullRequest, { repo: 'acme/widgets', number: 1 })]);
  const [aliceResult, bobResult] = (await Promise.all([aliceRun.result(), bobRun.result()])) as Array<{ title: string; slackMessageUrl: string; jiraKey: string }>;
  for (const result of [aliceResult, bobResult]) {
    expect(result.title).toBe('Add retry to widget sync');
    expect(result.slackMessageUrl).toMatch(/\/slack\/archives\/C0TRIAGE\/p\d+/);
    expect(result.jiraKey).toMatch(/^OPS-\d+$/);
  }
  expect(aliceResult.jiraKey).not.toBe(bobResult.jiraKey);

  const requests = await requestsSince(since);
  const userCalls = requests.filter((request) => request.app !== 'jira' && !request.path.includes('oauth'));
  expect(userCalls.length).toBe(8); // per user: pulls.get, chat.postMessage, chat.getPermalink, the comment
  for (const user of ['alice', 'bob']) {
    const calls = userCalls.filter((request) => request.credential.user === user);
    expect(calls.map((request) => `${request.app} ${request.path}`).sort()).toEqual([
      'github /repos/acme/widgets/issues/1/comments',
      'github /repos/acme/widgets/pulls/1',
      'slack /chat.getPermalink',
      'slack /chat.postMessage',
    ]);
    expect(calls.every((request) => request.credential.scheme === 'bearer' && request.credential.valid)).toBe(true);
  }
  const aliceTokens = new Set(userCalls.filter((r) => r.credential.user === 'alice').map((r) => r.credential.presented));
  const bobTokens = new Set(userCalls.filter((r) => r.credential.user === 'bob').map((r) => r.credential.presented));
  expect([...aliceTokens].some((token) => bobTokens.has(token))).toBe(false);

  const jiraCalls = requests.filter((request) => request.app === 'jira');
  expect(jiraCalls).toHaveLength(2);
  expect(jiraCalls.every((request) => request.credential.scheme === 'basic' && request.credential.user === 'service-account')).toBe(true);

  // One audit record per app call: the person, the path down to the call, whose credential and why.
  const audit = await stack.stores.audit.forRun(aliceRun.workflowId);
  const root = aliceRun.workflowId;
  expect(audit.map((record) => [record.app, record.action, record.actor.subject, record.credential?.owner, record.credential?.externalAccount, record.runPath])).toEqual([
    ['github', 'pulls.get', 'alice', 'user', 'alice', [root, `${root}/summarize_pull_request-1`]],
    ['slack', 'chat.postMessage', 'alice', 'user', 'alice', [root, `${root}/notify_team-2`]],
    ['slack', 'chat.getPermalink', 'alice', 'user', 'alice', [root, `${root}/notify_team-2`]],
    ['jira', 'issues.create', 'alice', 'service_account', 'svc-baton@acme.example', [root, `${root}/notify_team-2`]],
    ['github', 'issues.createComment', 'alice', 'user', 'alice', [root]],
  ]);
  expect(audit[3]?.credential?.reason).toBe('apps.jira.credential: service_account');
  expect(audit.every((record) => record.outcome === 'ok' && record.upstreamStatus !== null && record.durationMs !== null)).toBe(true);
  expect((await stack.stores.audit.query({ rootRunId: root, kind: 'tool_call.finished' })).map((record) => [record.outcome, record.actor.subject])).toEqual([['completed', 'alice']]);

  // "Who made that change?" for the Jira ticket and the Slack message the run created: alice, with the path and credential.
  const [ticket] = await stack.stores.audit.whoChanged('jira', aliceResult.jiraKey);
  expect(ticket).toMatchObject({ actor: { subject: 'alice' }, rootRunId: root, runPath: [root, `${root}/notify_team-2`], credential: { owner: 'service_account' } });
  const messageTs = /\/p(\d+)(\d{6})$/.exec(aliceResult.slackMessageUrl)!.slice(1).join('.');
  const [message] = await stack.stores.audit.whoChanged('slack', messageTs);
  expect(message).toMatchObject({ actor: { subject: 'alice' }, action: 'chat.postMessage', credential: { owner: 'user', externalAccount: 'alice' } });
  expect(await stack.stores.audit.whoChanged('slack', 'C0TRIAGE/1.000000')).toEqual([]);
});

test("bob gets GitHub's not-found for alice's private repo as a clear error; alice can read it", async () => {
  const aliceRun = await stack.run(alice, triagePullRequest, { repo: 'alice/secret-plans', number: 1 });
  expect(((await aliceRun.result()) as { title: string }).title).toBe('Launch plan for Q3');

  const bobRun = await stack.run(bob, triagePullRequest, { repo: 'alice/secret-plans', number: 1 });
  const failure = await bobRun.result().then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect(rootCauseMessage(failure)).toMatch(/GitHub answered 404: Not Found \(pulls.get as bob \(bob\)\)/);
  const status = await bobRun.query<{ state: string; error: { type: string; message: string } }>('baton.status');
  expect(status.state).toBe('failed');
  expect(status.error).toEqual({ type: 'AppRequestFailed', message: expect.stringContaining('404') });
});

test('a tool that calls an app it did not declare fails with a clear error', async () => {
  const handle = await stack.run(alice, undeclaredAppCall, {});
  await expect(handle.result()).rejects.toThrow();
  const status = await handle.query<{ error: { type: string; message: string } }>('baton.status');
  expect(status.error.type).toBe('UndeclaredApp');
  expect(status.error.message).toMatch(/does not declare it in `apps`/);
});

test("signals and updates sent as a user carry that user's signed identity header", async () => {
  const carol = { ...alice, tenant: 'header-tenant' };
  const handle = await stack.run(carol, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'x' }, { consentTimeoutMs: 60_000 });
  const token = await stack.sign(carol, { rootWorkflowId: handle.workflowId, tool: 'comment_on_pull_request' });
  const paused = await actingAs(token, () => handle.executeUpdate(awaitOutcomeUpdate, { args: [{}] }));
  expect(paused.state).toBe('paused');
  await actingAs(token, () => handle.signal(consentDecisionSignal, { app: 'github', decision: 'denied' }));
  await expect(handle.result()).rejects.toThrow();

  const { events } = await handle.fetchHistory();
  const signalled = events?.find((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'baton.consentDecision');
  expect(Object.keys(signalled?.workflowExecutionSignaledEventAttributes?.header?.fields ?? {})).toEqual(expect.arrayContaining([IDENTITY_HEADER, MESSAGE_HEADER]));
  const update = events?.find((event) => event.workflowExecutionUpdateAcceptedEventAttributes);
  expect(Object.keys(update?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.header?.fields ?? {})).toContain(IDENTITY_HEADER);
  const started = events?.find((event) => event.workflowExecutionStartedEventAttributes);
  expect(Object.keys(started?.workflowExecutionStartedEventAttributes?.header?.fields ?? {})).toContain(IDENTITY_HEADER);
});

function rootCauseMessage(error: unknown): string {
  let current = error as { cause?: unknown; message?: string } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  return current?.message ?? '';
}
