/**
 * Issue 2, points 3 and 4: a run pauses durably where the user has not connected an app, at any depth,
 * resumes after consent, and ends clearly on denial or timeout.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { triagePullRequest } from '../workflows/tools/triage-pull-request.ts';
import { commentOnPullRequest } from './fixtures/probe-tools.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { alice, bob } from './support/identities.ts';
import { Stack } from './support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await Stack.start();
}, 120_000);

afterAll(async () => stack?.close());

test('alice with no connections: pauses at GitHub, resumes, pauses at Slack (depth 3), resumes, completes', async () => {
  const handle = await stack.run(alice, triagePullRequest, { repo: 'acme/widgets', number: 1 });

  const first = await stack.awaitOutcome(handle);
  expect(first.state).toBe('paused');
  expect(first.pending).toEqual([
    expect.objectContaining({ app: 'github', appName: 'GitHub', reason: 'never_connected', scopes: ['repo'], waitingWorkflowId: `${handle.workflowId}/summarize_pull_request-1` }),
  ]);
  const githubRequest = await stack.stores.consents.get(first.pending[0]!.consentId);
  expect(githubRequest).toMatchObject({ tenant: 'acme', subject: 'alice', app: 'github', status: 'pending', rootWorkflowId: handle.workflowId });

  // The consent link a gateway would hand out for this request leads to GitHub's real consent form.
  const authorizeUrl = await stack.connectFlow.authorizeUrlForConsent(first.pending[0]!.consentId, { tenant: 'acme', subject: 'alice', sessionBinding: 'test-session-alice' });
  expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
  const connected = await stack.consent(alice, 'github');
  expect(connected).toMatchObject({ outcome: 'connected', externalLogin: 'alice', resumedWorkflows: [`${handle.workflowId}/summarize_pull_request-1`] });
  expect((await stack.stores.consents.get(first.pending[0]!.consentId))?.status).toBe('granted');

  const second = await stack.awaitOutcome(handle, [first.pending[0]!.consentId]);
  expect(second.state).toBe('paused');
  expect(second.pending).toEqual([expect.objectContaining({ app: 'slack', waitingWorkflowId: `${handle.workflowId}/notify_team-2` })]);

  await stack.consent(alice, 'slack');
  const done = await stack.awaitOutcome(handle, [first.pending[0]!.consentId, second.pending[0]!.consentId]);
  expect(done.state).toBe('completed');
  expect(await handle.result()).toMatchObject({ title: 'Add retry to widget sync', jiraKey: expect.stringMatching(/^OPS-/) });
  expect(await stack.stores.vault.getConnectionInfo('acme', 'alice', 'github')).toMatchObject({ status: 'active', externalLogin: 'alice' });
});

test('two runs of bob waiting on GitHub both resume from one consent', async () => {
  const runs = await Promise.all([1, 2].map((n) => stack.run(bob, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: `from run ${n}` })));
  const paused = await Promise.all(runs.map((run) => stack.awaitOutcome(run)));
  expect(paused.map((status) => status.state)).toEqual(['paused', 'paused']);

  const result = await stack.consent(bob, 'github');
  expect(result.resumedWorkflows.sort()).toEqual(runs.map((run) => run.workflowId).sort());
  const comments = (await Promise.all(runs.map((run) => run.result()))) as Array<{ id: number; body: string }>;
  expect(comments.map((comment) => comment.body).sort()).toEqual(['from run 1', 'from run 2']);
});

test('a denial ends the step with a clear "declined" error', async () => {
  const carol = { ...alice, subject: 'bob', tenant: 'denial-tenant' };
  const handle = await stack.run(carol, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'never posted' });
  const paused = await stack.awaitOutcome(handle);
  expect(paused.state).toBe('paused');

  const result = await stack.consent(carol, 'github', 'deny');
  expect(result.outcome).toBe('denied');
  const final = await stack.awaitOutcome(
    handle,
    paused.pending.map((p) => p.consentId),
  );
  expect(final).toMatchObject({ state: 'failed', error: { type: 'ConsentDeclined', message: 'Alice Example declined to connect GitHub, so the run cannot continue.' } });
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  expect((await stack.stores.consents.get(paused.pending[0]!.consentId))?.status).toBe('denied');
  expect(await stack.stores.vault.getConnectionInfo('denial-tenant', 'bob', 'github')).toBeUndefined();
});

test('a consent that never comes times out with a clear error and the request is marked expired', async () => {
  const dave = { ...alice, tenant: 'timeout-tenant' };
  const handle = await stack.run(dave, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'too late' }, { consentTimeoutMs: 2_000 });
  const paused = await stack.awaitOutcome(handle);
  const final = await stack.awaitOutcome(
    handle,
    paused.pending.map((p) => p.consentId),
  );
  expect(final).toMatchObject({
    state: 'failed',
    error: { type: 'ConsentTimedOut', message: 'Timed out after 2 seconds waiting for Alice Example to connect GitHub. Run the tool again to get a new link.' },
  });
  expect((await stack.stores.consents.get(paused.pending[0]!.consentId))?.status).toBe('expired');
});

test('cancelling a paused run ends it and closes its consent request', async () => {
  const erin = { ...alice, tenant: 'cancel-tenant' };
  const handle = await stack.run(erin, triagePullRequest, { repo: 'acme/widgets', number: 1 });
  const paused = await stack.awaitOutcome(handle);
  await handle.cancel();
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  const consentId = paused.pending[0]!.consentId;
  for (let attempt = 0; attempt < 50 && (await stack.stores.consents.get(consentId))?.status === 'pending'; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect((await stack.stores.consents.get(consentId))?.status).toBe('cancelled');
});

test('no secret the sandbox issued appears in any workflow history', async () => {
  await expectNoSecretsInHistories(stack);
});
