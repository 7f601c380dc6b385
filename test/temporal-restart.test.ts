/**
 * Issue 6, must-show 2: the Temporal server is restarted (same database file) while runs are paused
 * for consent and running (an app call in flight); the worker process reconnects by itself, the paused
 * runs resume after consent, and every run completes — each app write applied once.
 *
 * The suite runs its own file-backed dev server (not `npm test`'s in-memory one) and kills it the hard
 * way (SIGKILL, as the SDK's teardown does), then starts a new one on the same port and file.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client as McpClient } from '@modelcontextprotocol/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTemporalDevServer } from '../scripts/temporal-dev-server.ts';
import { freePort, GatewayStack } from './support/gateway-stack.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { until } from './support/until.ts';

interface LoggedRequest {
  method: string;
  idempotencyKey: string | null;
}

let dir: string;
let dbFilename: string;
let port: number;
let temporal: TestWorkflowEnvironment | undefined;
let gs: GatewayStack;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A file-backed dev server on `port`; right after a kill the port may still be held for a moment, so a few tries. */
async function startTemporal(): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startTemporalDevServer({ dbFilename, port });
    } catch (error) {
      if (attempt === 5) throw error;
      await sleep(500 * attempt);
    }
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-temporal-restart-'));
  dbFilename = join(dir, 'temporal.db');
  port = await freePort();
  temporal = await startTemporal();
  // Short MCP waits: calls hand back a handle (or a consent link) quickly; results are fetched after the restart.
  gs = await GatewayStack.start({ temporalAddress: `127.0.0.1:${port}`, env: { BATON_MCP_WAIT_SECONDS: '2' } });
}, 120_000);

afterAll(async () => {
  await gs?.close();
  await temporal?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

type Answer = { structuredContent?: Record<string, unknown>; content?: unknown };

/** The consent link in a paused call's answer. */
function consentLink(answer: Answer): string {
  const text = JSON.stringify(answer);
  const link = /https?:\/\/[^"\s\\]+\/connect\/[0-9a-f-]+/.exec(text)?.[0];
  if (!link) throw new Error(`no consent link in ${text}`);
  return link;
}

function runIdOf(answer: Answer): string {
  const runId = answer.structuredContent?.runId ?? /run(?:Id)?[" :]+([A-Za-z0-9_-]+-[0-9a-f-]{36})/.exec(JSON.stringify(answer))?.[1];
  if (typeof runId !== 'string') throw new Error(`no run id in ${JSON.stringify(answer)}`);
  return runId;
}

async function resultOf(client: McpClient, runId: string): Promise<Record<string, unknown>> {
  return until(
    `the result of ${runId}`,
    async () => {
      const got = await client.callTool({ name: 'get_run_result', arguments: { runId } });
      const content = got.structuredContent as Record<string, unknown> | undefined;
      return content && content.status !== 'running' ? content : undefined;
    },
    90_000,
  );
}

test('Temporal restarts (same database file) with runs paused and running; the worker reconnects by itself and every run completes', async () => {
  const [aliceToken, bobToken] = await Promise.all([gs.tokenFor('alice'), gs.tokenFor('bob')]);
  const [alice, bob] = await Promise.all([gs.connect(aliceToken), gs.connect(bobToken)]);

  // Paused: neither has connected GitHub yet.
  const pausedAlice = (await alice.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } })) as Answer;
  const pausedBob = (await bob.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } })) as Answer;
  const links = { alice: consentLink(pausedAlice), bob: consentLink(pausedBob) };

  // Running: two Jira tickets held inside the app — one answered while Temporal is down, one after it is back.
  // (Both outlast the 2 s the call waits, so both calls hand back a handle.)
  await gs.stack.sandboxPost('/_sandbox/delay', { app: 'jira', pathPrefix: '/rest/api/3/issue', ms: 4_000, times: 1 });
  const shortHold = (await alice.callTool({ name: 'open_ops_ticket', arguments: { summary: `short hold ${randomUUID()}` } })) as Answer;
  await gs.stack.sandboxPost('/_sandbox/delay', { app: 'jira', pathPrefix: '/rest/api/3/issue', ms: 20_000, times: 1 });
  const longHold = (await bob.callTool({ name: 'open_ops_ticket', arguments: { summary: `long hold ${randomUUID()}` } })) as Answer;
  const running = [runIdOf(shortHold), runIdOf(longHold)];
  expect(shortHold.structuredContent).toMatchObject({ status: 'running' });
  expect(longHold.structuredContent).toMatchObject({ status: 'running' });
  const paused = [runIdOf(pausedAlice), runIdOf(pausedBob)];
  for (const runId of paused) expect((await gs.stack.client.workflow.getHandle(runId).describe()).status.name).toBe('RUNNING');

  // Stop Temporal. The worker notices and says so; the gateway's readiness check reports it.
  await temporal!.teardown();
  temporal = undefined;
  await until('the worker to report the lost connection', () => (gs.stack.worker.output.includes('worker: lost the connection to Temporal') ? true : undefined), 30_000);
  const notReady = await fetch(`${gs.url}/readyz`);
  expect(notReady.status).toBe(503);
  expect(((await notReady.json()) as { checks: { temporal: string } }).checks.temporal).toMatch(/^failing/);

  // Start it again on the same port and database file.
  temporal = await startTemporal();
  await until('the worker to reconnect', () => (gs.stack.worker.output.includes('worker: connected to Temporal at') && /again after/.test(gs.stack.worker.output) ? true : undefined), 60_000);
  expect(gs.stack.worker.output).not.toMatch(/worker failed|worker stopped/);
  await until('the gateway to be ready again', async () => ((await fetch(`${gs.url}/readyz`)).status === 200 ? true : undefined), 60_000);

  // The paused runs survived in the database file: consent, and they resume.
  for (const [user, link] of [
    ['alice', links.alice],
    ['bob', links.bob],
  ] as const) {
    const page = await gs.consentInBrowser(link, user);
    expect(page.status).toBe(200);
  }

  const results = await Promise.all([resultOf(alice, paused[0]!), resultOf(bob, paused[1]!), resultOf(alice, running[0]!), resultOf(bob, running[1]!)]);
  expect(results[0]).toMatchObject({ repo: 'acme/widgets', number: 1, title: expect.any(String) });
  expect(results[1]).toMatchObject({ repo: 'acme/widgets', number: 1, title: expect.any(String) });
  expect(results[2]).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  expect(results[3]).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-\d+$/) });

  // Each Jira ticket was filed once, however often its step was attempted.
  const { jiraIssues } = await gs.stack.sandboxGet<{ jiraIssues: Array<{ key: string }> }>('/_sandbox/state');
  for (const result of results.slice(2)) expect(jiraIssues.filter((issue) => issue.key === result.jiraKey)).toHaveLength(1);
  const { requests } = await gs.stack.sandboxGet<{ requests: LoggedRequest[] }>('/_sandbox/requests?app=jira');
  for (const runId of running) {
    const keys = new Set(requests.filter((r) => r.method === 'POST' && r.idempotencyKey?.startsWith(runId)).map((r) => r.idempotencyKey));
    expect(keys.size).toBe(1);
  }
  await Promise.all([alice.close(), bob.close()]);
}, 240_000);

test('no secret the sandbox issued appears in any workflow history', async () => {
  await expectNoSecretsInHistories(gs.stack);
});
