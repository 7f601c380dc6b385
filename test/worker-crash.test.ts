/**
 * Issue 2, point 7: the worker is SIGKILLed while one run is paused for consent and another is in the
 * middle of an app call; a new worker finishes both, and the app applies each step once.
 */
import { commentOnPullRequest } from './fixtures/probe-tools.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { alice, bob } from './support/identities.ts';
import { Stack } from './support/stack.ts';

interface LoggedRequest {
  app: string;
  method: string;
  path: string;
  idempotencyKey: string | null;
  replayed: boolean;
}

let stack: Stack;

beforeAll(async () => {
  stack = await Stack.start();
  await stack.consent(bob, 'github');
}, 120_000);

afterAll(async () => stack?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a new worker finishes a paused run and a run killed mid-call, without repeating the call', async () => {
  const paused = await stack.run(alice, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'paused across a crash' });
  expect((await stack.awaitOutcome(paused)).state).toBe('paused');

  // Hold bob's comment inside the app long enough to kill the worker while the call is in flight.
  await stack.sandboxPost('/_sandbox/delay', { app: 'github', pathPrefix: '/repos/acme/widgets/issues/1/comments', ms: 3_000, times: 1 });
  const inFlight = await stack.run(bob, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'in flight during a crash' });
  await sleep(1_000);
  await stack.worker.kill();

  await stack.consent(alice, 'github'); // the signal is stored by Temporal while no worker runs
  await sleep(2_500); // the app finishes bob's delayed request meanwhile, as a real server would
  await stack.startNewWorker();

  expect(await paused.result()).toMatchObject({ body: 'paused across a crash', user: { login: 'alice' } });
  expect(await inFlight.result()).toMatchObject({ body: 'in flight during a crash', user: { login: 'bob' } });

  const { githubComments } = await stack.sandboxGet<{ githubComments: Array<{ body: string }> }>('/_sandbox/state');
  expect(githubComments.filter((c) => c.body === 'in flight during a crash')).toHaveLength(1);
  expect(githubComments.filter((c) => c.body === 'paused across a crash')).toHaveLength(1);

  const { requests } = await stack.sandboxGet<{ requests: LoggedRequest[] }>('/_sandbox/requests?app=github');
  const bobPosts = requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/widgets/issues/1/comments' && r.idempotencyKey?.startsWith(inFlight.workflowId));
  expect(bobPosts).toHaveLength(2); // the lost attempt and its retry, with the same step key
  expect(new Set(bobPosts.map((r) => r.idempotencyKey)).size).toBe(1);
  expect(bobPosts.map((r) => r.replayed)).toEqual([false, true]);
}, 90_000);

test('SIGTERM drains the worker and it exits cleanly', async () => {
  const exit = await stack.worker.stopGracefully();
  expect(exit).toEqual({ code: 0, signal: null });
  expect(stack.worker.output).toContain('worker stopped');
  await stack.startNewWorker();
});

test('no secret the sandbox issued appears in any workflow history', async () => {
  await expectNoSecretsInHistories(stack);
});
