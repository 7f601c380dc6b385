/**
 * Issue 6, graceful shutdown: a `baton gateway` process receiving SIGTERM while an MCP tools/call waits
 * on a run answers that call with a handle (not a cut connection) and exits 0; the run completes. A
 * `baton worker` receiving SIGTERM while an activity is in the middle of an app call lets the call
 * finish before it exits 0: the app sees one request, not a cancelled one and a retry.
 */
import { randomUUID } from 'node:crypto';
import { BatonProcess } from './support/gateway-process.ts';
import { freePort, GatewayStack } from './support/gateway-stack.ts';
import { postMcp, toolsCall } from './support/mcp-http.ts';
import { runsOf } from './support/runs.ts';
import { bob } from './support/identities.ts';
import { openOpsTicket } from '../workflows/tools/open-ops-ticket.ts';
import { until } from './support/until.ts';

interface LoggedRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  replayed: boolean;
}

let gs: GatewayStack;
beforeAll(async () => {
  gs = await GatewayStack.start();
}, 120_000);
afterAll(async () => gs?.close());

const holdJira = (ms: number) => gs.stack.sandboxPost('/_sandbox/delay', { app: 'jira', pathPrefix: '/rest/api/3/issue', ms, times: 1 });

test('SIGTERM to a gateway process: the tools/call waiting on a run is answered with a handle, the process exits 0, the run completes', async () => {
  const port = await freePort();
  // Same database, Temporal and public URL as the stack's own gateway: tokens for it are good here too.
  const gateway = new BatonProcess({ ...gs.gatewayEnv, PORT: String(port), BATON_MCP_WAIT_SECONDS: '60', BATON_SHUTDOWN_GRACE_SECONDS: '20', NODE_NO_WARNINGS: '1' });
  await gateway.start();
  try {
    expect(gateway.output).toMatch(/gateway: connected to Temporal at \S+, namespace default/);
    const token = await gs.tokenFor('alice');
    const before = (await runsOf(gs.stack, 'open_ops_ticket')).length;
    await holdJira(8_000);
    const summary = `filed across a gateway shutdown ${randomUUID()}`;
    const started = performance.now();
    const call = postMcp(`http://127.0.0.1:${port}/mcp`, toolsCall('open_ops_ticket', { summary }), { authorization: `Bearer ${token}` });
    // The run has started: the call is now waiting on it (for up to 60 s).
    await until('the run to start', async () => ((await runsOf(gs.stack, 'open_ops_ticket')).length > before ? true : undefined));
    gateway.signal('SIGTERM');

    const answer = await call;
    expect(performance.now() - started).toBeLessThan(7_000); // long before the app answers, let alone the 60 s wait
    expect(answer.status).toBe(200);
    const handle = answer.json.result.structuredContent as { status: string; runId: string };
    expect(handle).toEqual({ status: 'running', runId: expect.any(String) });
    expect(await gateway.exited()).toEqual({ code: 0, signal: null });
    expect(gateway.output).toContain('gateway: SIGTERM: stopping');
    expect(gateway.output).toContain('gateway stopped');
    // New connections are refused once it is gone.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();

    // The run was never touched: it finishes, and the stack's other gateway hands the result over.
    const client = await gs.connect(token);
    const result = await until('the result', async () => {
      const got = await client.callTool({ name: 'get_run_result', arguments: { runId: handle.runId } });
      return (got.structuredContent as { status?: string }).status === 'running' ? undefined : got.structuredContent;
    });
    expect(result).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-\d+$/) });
    await client.close();
  } finally {
    await gateway.kill();
  }
}, 90_000);

test('SIGTERM to a worker in the middle of an app call: the call finishes (one request, no retry), the worker exits 0', async () => {
  await holdJira(3_000);
  const summary = `filed across a worker shutdown ${randomUUID()}`;
  const handle = await gs.stack.run(bob, openOpsTicket, { summary });
  await until('the app call to be in flight', async () => {
    const { raw } = await handle.describe();
    return (raw.pendingActivities ?? []).some((activity) => activity.activityType?.name === 'callApp') ? true : undefined;
  });
  const exit = await gs.stack.worker.stopGracefully();
  expect(exit).toEqual({ code: 0, signal: null });
  expect(gs.stack.worker.output).toContain('worker: stopping (finishing the activities in hand)');
  expect(gs.stack.worker.output).toContain('worker stopped');

  await gs.stack.startNewWorker(); // to run the rest of the workflow
  expect(await handle.result()).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  const { requests } = await gs.stack.sandboxGet<{ requests: LoggedRequest[] }>('/_sandbox/requests?app=jira');
  const posts = requests.filter((r) => r.method === 'POST' && r.idempotencyKey?.startsWith(handle.workflowId));
  expect(posts).toHaveLength(1);
  expect(posts[0]!.replayed).toBe(false);
}, 90_000);
