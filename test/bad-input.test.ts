/**
 * Issue 2, point 9: bad input gets a clear error and harms nothing else — a tool input failing its
 * schema, an unknown app or action, a corrupted vault row, a wrong vault key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidToolInputError } from '../gateway/temporal/start-tool.ts';
import { actingAs } from '../gateway/temporal/identity-propagation.ts';
import { triagePullRequest } from '../workflows/tools/triage-pull-request.ts';
import { summarizePullRequest } from '../workflows/tools/summarize-pull-request.ts';
import { callAnything, probeFormats } from './fixtures/probe-tools.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { alice, bob } from './support/identities.ts';
import { Stack } from './support/stack.ts';
import { WorkerProcess } from './support/worker-process.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await Stack.start();
  for (const user of [alice, bob]) await stack.consent(user, 'slack');
}, 120_000);

afterAll(async () => stack?.close());

async function workflowCount(): Promise<number> {
  const { count } = await stack.client.workflow.count(`TaskQueue = "${stack.settings.temporal.taskQueue}"`);
  return count;
}

async function failureOf(handle: { result(): Promise<unknown>; query: (name: string) => Promise<unknown> }) {
  await expect(handle.result()).rejects.toThrow();
  return ((await handle.query('baton.status')) as { error: { type: string; message: string } }).error;
}

test('a tool input failing its schema is refused before anything starts', async () => {
  const before = await workflowCount();
  const attempt = stack.run(alice, triagePullRequest, { repo: 'not a repo', number: -3 });
  await expect(attempt).rejects.toBeInstanceOf(InvalidToolInputError);
  await expect(attempt).rejects.toThrow('Invalid input for "triage_pull_request": repo: expected "owner/name", e.g. "acme/widgets"; number: Too small: expected number to be >0');
  expect(await workflowCount()).toBe(before);
});

test('a callable cannot be started as a tool', async () => {
  await expect(stack.run(alice, summarizePullRequest, { repo: 'acme/widgets', number: 1 })).rejects.toThrow('"summarize_pull_request" is a callable, not a tool');
});

test('bad input that bypasses the client check is refused by the workflow itself', async () => {
  const workflowId = `triage_pull_request-${randomUUID()}`;
  const token = await stack.sign(alice, { rootWorkflowId: workflowId, tool: 'triage_pull_request' });
  const handle = await actingAs(token, () => stack.client.workflow.start('triage_pull_request', { taskQueue: stack.settings.temporal.taskQueue, workflowId, args: [{ repo: 42 }, {}] }));
  expect(await failureOf(handle)).toEqual({ type: 'InvalidToolInput', message: expect.stringMatching(/^Invalid input for "triage_pull_request": repo: /) });
});

test("zod's string formats parse inside workflows that share one frozen zod, run after run", async () => {
  const input = { email: 'alice@example.com', site: 'https://example.com/a', id: randomUUID(), at: '2026-12-02T10:00:00Z', tag: 'v12' };
  // Two runs: the second reuses the worker's context, where a format check of the first could have left state.
  for (let round = 0; round < 2; round++) {
    const handle = await stack.run(alice, probeFormats, input);
    expect(await handle.result()).toEqual({ input, zodShared: true });
  }
});

test("a value failing zod's string formats inside the workflow gets zod's English message", async () => {
  const workflowId = `probe_formats-${randomUUID()}`;
  const token = await stack.sign(alice, { rootWorkflowId: workflowId, tool: 'probe_formats' });
  const args = [{ email: 'not-an-email', site: 'nota url', id: 'x', at: 'yesterday', tag: 'w1' }, {}];
  const handle = await actingAs(token, () => stack.client.workflow.start('probe_formats', { taskQueue: stack.settings.temporal.taskQueue, workflowId, args }));
  expect(await failureOf(handle)).toEqual({
    type: 'InvalidToolInput',
    message: 'Invalid input for "probe_formats": email: Invalid email address; site: Invalid URL; id: Invalid UUID; at: Invalid ISO datetime; tag: Invalid string: must match pattern /^v\\d+$/g',
  });
});

test('an unknown tool name fails with a clear error', async () => {
  const workflowId = `no_such_tool-${randomUUID()}`;
  const token = await stack.sign(alice, { rootWorkflowId: workflowId, tool: 'no_such_tool' });
  const handle = await actingAs(token, () => stack.client.workflow.start('no_such_tool', { taskQueue: stack.settings.temporal.taskQueue, workflowId, args: [{}] }));
  await expect(handle.result()).rejects.toThrow();
  const history = JSON.stringify(await handle.fetchHistory());
  expect(history).toContain('No tool or callable named \\"no_such_tool\\" is registered on this worker.');
});

test.each([
  [{ app: 'nosuchapp', action: 'x', input: {} }, 'UnknownApp', 'Unknown app "nosuchapp". Known apps: github, slack, jira, crm.'],
  [{ app: 'github', action: 'repos.delete', input: {} }, 'UnknownAction', 'GitHub has no action "repos.delete". Known actions: users.getAuthenticated, pulls.get, issues.createComment.'],
  [
    { app: 'slack', action: 'chat.postMessage', input: { channel: '#triage' } },
    'InvalidActionInput',
    'Invalid input for Slack chat.postMessage: text: Invalid input: expected string, received undefined',
  ],
])('app call %j fails with %s', async (request, type, message) => {
  const { requests: before } = await stack.sandboxGet<{ requests: unknown[] }>('/_sandbox/requests');
  const handle = await stack.run(alice, callAnything, request);
  expect(await failureOf(handle)).toEqual({ type, message });
  const { requests: after } = await stack.sandboxGet<{ requests: unknown[] }>('/_sandbox/requests');
  expect(after).toHaveLength(before.length);
});

test("a corrupted vault row asks that user to reconnect; other users' connections keep working", async () => {
  await stack.stores.db.run(`UPDATE vault_connections SET sealed_secret = 'v1.garbage' WHERE subject = 'alice' AND app = 'slack'`);

  const aliceRun = await stack.run(alice, callAnything, { app: 'slack', action: 'auth.test', input: {} });
  const paused = await stack.awaitOutcome(aliceRun);
  expect(paused.pending[0]).toMatchObject({ app: 'slack', reason: 'unreadable', message: expect.stringMatching(/corrupt/i) });

  const bobRun = await stack.run(bob, callAnything, { app: 'slack', action: 'auth.test', input: {} });
  expect(await bobRun.result()).toEqual({ id: 'U0BOB', login: 'bob' });

  await stack.consent(alice, 'slack'); // reconnecting replaces the unreadable row
  expect(await aliceRun.result()).toEqual({ id: 'U0ALICE', login: 'alice' });
});

test('a worker given the wrong vault key refuses to start with a clear error, and nothing is harmed', async () => {
  const wrongKey = new WorkerProcess({ ...stack.workerEnv, BATON_VAULT_KEY: randomBytes(32).toString('base64') });
  await expect(wrongKey.start()).rejects.toThrow(/worker failed: .*vault key/i);
  expect(wrongKey.output).not.toMatch(/worker ready/);

  const handle = await stack.run(bob, callAnything, { app: 'slack', action: 'auth.test', input: {} });
  expect(await handle.result()).toEqual({ id: 'U0BOB', login: 'bob' });
});

test('a malformed vault key is refused with instructions', async () => {
  const badKey = new WorkerProcess({ ...stack.workerEnv, BATON_VAULT_KEY: 'not-a-key' });
  await expect(badKey.start()).rejects.toThrow(/BATON_VAULT_KEY.*openssl rand -base64 32/s);
});

test('no secret the sandbox issued appears in any workflow history', async () => {
  await expectNoSecretsInHistories(stack);
});
