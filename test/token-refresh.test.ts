/**
 * Issue 2, point 6: an access token near expiry is refreshed once however many calls need it at the
 * same moment; a refresh token the provider revoked pauses the run for re-consent instead of failing it.
 */
import { callAnything, commentOnPullRequest } from './fixtures/probe-tools.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { alice, bob } from './support/identities.ts';
import { sample, scrapeMetrics } from './support/metrics.ts';
import { Stack } from './support/stack.ts';

interface LoggedRequest {
  seq: number;
  app: string;
  path: string;
  grantType?: string;
  status: number;
  credential: { presented: string | null; user: string | null };
}

let stack: Stack;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  stack = await Stack.start();
}, 120_000);

/** What the worker process counted, from its own /metrics. */
const metricValue = async (name: string, labels: Record<string, string>) => sample((await scrapeMetrics(stack.workerMetricsUrl)).text, name, labels);

afterAll(async () => stack?.close());

async function requests(): Promise<LoggedRequest[]> {
  return (await stack.sandboxGet<{ requests: LoggedRequest[] }>('/_sandbox/requests')).requests;
}

const refreshesOf = (log: LoggedRequest[], user: string) => log.filter((r) => r.grantType === 'refresh_token' && r.credential.user === user);

test('20 concurrent calls with an expired token cause exactly one refresh, and all use the new token', async () => {
  await stack.sandboxPost('/_sandbox/settings', { accessTokenTtlSeconds: 1 });
  await stack.consent(alice, 'github');
  const issued = (await requests()).filter((r) => r.grantType === 'authorization_code' && r.credential.user === 'alice');
  expect(issued).toHaveLength(1);
  await sleep(1_500); // alice's access token has now expired
  await stack.sandboxPost('/_sandbox/settings', { accessTokenTtlSeconds: 3600 });
  // Hold the refresh at GitHub for a while, so every one of the 20 calls arrives while it is in flight.
  await stack.sandboxPost('/_sandbox/delay', { app: 'github', pathPrefix: '/login/oauth/access_token', ms: 2_000, times: 1 });

  const runs = await Promise.all(Array.from({ length: 20 }, () => stack.run(alice, callAnything, { app: 'github', action: 'users.getAuthenticated', input: {} })));
  const results = (await Promise.all(runs.map((run) => run.result()))) as Array<{ login: string }>;
  expect(results.every((result) => result.login === 'alice')).toBe(true);

  const log = await requests();
  expect(refreshesOf(log, 'alice')).toHaveLength(1);
  expect(refreshesOf(log, 'alice')[0]?.status).toBe(200);
  const apiCalls = log.filter((r) => r.app === 'github' && r.path === '/user' && r.credential.user === 'alice' && r.seq > refreshesOf(log, 'alice')[0]!.seq);
  expect(apiCalls.length).toBeGreaterThanOrEqual(20);
  expect(new Set(apiCalls.map((r) => r.credential.presented)).size).toBe(1);
  expect(apiCalls.every((r) => r.status === 200)).toBe(true);
  // One refresh, one audit record, counted once.
  expect((await stack.stores.audit.query({ tenant: 'acme', subject: 'alice', kind: 'connection.refreshed' })).map((record) => [record.app, record.outcome])).toEqual([['github', 'ok']]);
  expect(await metricValue('baton_token_refreshes_total', { app: 'github', outcome: 'ok' })).toBe(1);
});

test('a revoked refresh token pauses the run for re-consent; consenting again completes it', async () => {
  await stack.sandboxPost('/_sandbox/settings', { accessTokenTtlSeconds: 1 });
  await stack.consent(bob, 'github');
  await stack.sandboxPost('/_sandbox/revoke-user-grants', { app: 'github', user: 'bob' });
  await sleep(1_500); // expired, so Baton must use the (revoked) refresh token

  const handle = await stack.run(bob, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'after re-consent' });
  const paused = await stack.awaitOutcome(handle);
  expect(paused.state).toBe('paused');
  expect(paused.pending[0]).toMatchObject({ app: 'github', reason: 'refresh_failed' });
  expect(await stack.stores.vault.getConnectionInfo('acme', 'bob', 'github')).toMatchObject({ status: 'needs_reconsent', statusReason: 'refresh_failed' });
  expect(await stack.stores.audit.query({ tenant: 'acme', subject: 'bob', kind: 'connection.refresh_failed' })).toEqual([
    expect.objectContaining({ app: 'github', outcome: 'rejected', rootRunId: handle.workflowId }),
  ]);
  expect(await metricValue('baton_token_refreshes_total', { app: 'github', outcome: 'rejected' })).toBe(1);
  expect(await metricValue('baton_consent_prompts_total', { app: 'github' })).toBeGreaterThanOrEqual(1);

  await stack.sandboxPost('/_sandbox/settings', { accessTokenTtlSeconds: 3600 });
  await stack.consent(bob, 'github');
  expect(await handle.result()).toMatchObject({ body: 'after re-consent', user: { login: 'bob' } });
});

test('an access token the provider revoked (401 from the API) also pauses for re-consent', async () => {
  await stack.sandboxPost('/_sandbox/settings', { accessTokenTtlSeconds: 3600 });
  const frank = { ...alice, tenant: 'revoked-tenant' };
  await stack.consent(frank, 'github');
  await stack.sandboxPost('/_sandbox/revoke-user-grants', { app: 'github', user: 'alice' });

  const handle = await stack.run(frank, callAnything, { app: 'github', action: 'users.getAuthenticated', input: {} });
  const paused = await stack.awaitOutcome(handle);
  expect(paused.pending[0]).toMatchObject({ app: 'github', reason: 'revoked', message: expect.stringContaining('must connect GitHub again') });
  expect(await stack.stores.audit.query({ tenant: 'revoked-tenant', kind: 'connection.needs_reconsent' })).toEqual([
    expect.objectContaining({ app: 'github', actor: expect.objectContaining({ subject: 'alice' }) }),
  ]);
  await stack.consent(frank, 'github');
  expect(await handle.result()).toMatchObject({ login: 'alice' });
});

test('no secret the sandbox issued appears in any workflow history', async () => {
  await expectNoSecretsInHistories(stack);
});
