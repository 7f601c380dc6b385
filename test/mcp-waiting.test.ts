/** Runs that outlive the configured wait hand back a handle; a repeat of a handed-back call re-attaches, a separate call does not. */
import type { Client } from '@modelcontextprotocol/client';
import { GatewayStack } from './support/gateway-stack.ts';
import { alice } from './support/identities.ts';
import { runsOf } from './support/runs.ts';

let gs: GatewayStack;

beforeAll(async () => {
  gs = await GatewayStack.start({ env: { BATON_MCP_WAIT_SECONDS: '1' } });
  await gs.stack.consent(alice, 'github');
}, 120_000);

afterAll(async () => {
  await gs?.close();
});

const slowGithub = (times: number) => gs.stack.sandboxPost('/_sandbox/delay', { app: 'github', pathPrefix: '/repos/acme/widgets/pulls', ms: 2500, times });
const readPr = { name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } };

/** What an agent does with a handle: ask get_run_result until the run is done (each ask waits up to a second). */
async function resultOf(client: Client, runId: string): Promise<unknown> {
  for (let attempt = 0; attempt < 6; attempt += 1) {
    const answer = await client.callTool({ name: 'get_run_result', arguments: { runId } });
    if ((answer.structuredContent as { status?: string }).status !== 'running') return answer.structuredContent;
  }
  throw new Error(`run ${runId} did not finish`);
}

test('a client without elicitation gets "still running" with a runId, and get_run_result waits for the result', async () => {
  await slowGithub(1);
  const before = (await runsOf(gs.stack, 'read_pull_request')).length;
  const client = await gs.connect(await gs.tokenFor('alice'));
  const started = performance.now();
  const first = await client.callTool(readPr);
  expect(performance.now() - started).toBeLessThan(2400);
  const handle = first.structuredContent as { status: string; runId: string };
  expect(handle).toEqual({ status: 'running', runId: expect.any(String) });
  expect((first.content as { text: string }[])[0]!.text).toContain(`Call get_run_result with runId "${handle.runId}"`);

  expect(await resultOf(client, handle.runId)).toMatchObject({ repo: 'acme/widgets', number: 1, title: expect.any(String) });
  expect(await runsOf(gs.stack, 'read_pull_request')).toHaveLength(before + 1);
  await client.close();
}, 60_000);

test('a 2026-era client is handed a requestState and comes back to the same run on its own', async () => {
  await slowGithub(1);
  const before = (await runsOf(gs.stack, 'read_pull_request')).length;
  const client = await gs.connect(await gs.tokenFor('alice'), { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  const result = await client.callTool(readPr);
  expect(result.structuredContent).toMatchObject({ repo: 'acme/widgets', number: 1, title: expect.any(String) });
  expect(await runsOf(gs.stack, 'read_pull_request')).toHaveLength(before + 1);
  await client.close();
}, 60_000);

test('two identical calls made at the same time are two requests: two runs, each answered', async () => {
  await slowGithub(2);
  const before = (await runsOf(gs.stack, 'read_pull_request')).length;
  const token = await gs.tokenFor('alice');
  const [one, two] = await Promise.all([gs.connect(token), gs.connect(token)]);
  const answers = await Promise.all([one.callTool(readPr), two.callTool(readPr)]);
  const handles = answers.map((a) => a.structuredContent as { status: string; runId: string });
  expect(handles).toEqual([
    { status: 'running', runId: expect.any(String) },
    { status: 'running', runId: expect.any(String) },
  ]);
  expect(handles[0]!.runId).not.toBe(handles[1]!.runId);
  expect(await resultOf(one, handles[0]!.runId)).toMatchObject({ title: expect.any(String) });
  expect(await resultOf(two, handles[1]!.runId)).toMatchObject({ title: expect.any(String) });
  expect(await runsOf(gs.stack, 'read_pull_request')).toHaveLength(before + 2);
  await Promise.all([one.close(), two.close()]);
}, 60_000);
