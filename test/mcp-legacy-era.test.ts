/** 2025-era MCP clients, end to end: with URL elicitation (-32042) and without elicitation (text + structured). */
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp } from './support/mcp-http.ts';
import { runsOf } from './support/runs.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started));

const triage = { name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } };

test('a 2025-era client with URL elicitation gets -32042, and its retry re-attaches to the paused run', async () => {
  const client = await gs.connect(await gs.tokenFor('alice'), { capabilities: { elicitation: { url: {} } } });
  expect(client.getNegotiatedProtocolVersion?.() ?? '2025').toMatch(/^2025-/);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['triage_pull_request', 'read_pull_request', 'open_ops_ticket', 'get_run_result']));

  const first = await client.callTool(triage).then(
    () => undefined,
    (error: { code: number; data: { elicitations: { mode: string; elicitationId: string; url: string; message: string }[] } }) => error,
  );
  expect(first?.code).toBe(-32042);
  const elicitations = first!.data.elicitations;
  expect(elicitations).toEqual([
    expect.objectContaining({ mode: 'url', elicitationId: expect.any(String), url: expect.stringMatching(new RegExp(`^${gs.url}/connect/`)), message: expect.stringContaining('GitHub') }),
    expect.objectContaining({ mode: 'url', url: expect.stringMatching(new RegExp(`^${gs.url}/connect/`)), message: expect.stringContaining('Slack') }),
  ]);
  for (const elicitation of elicitations) {
    expect((await gs.consentInBrowser(elicitation.url, 'alice')).text).toContain('connected as @alice — you can return to your assistant.');
  }

  const result = await client.callTool(triage);
  expect(result.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-/), slackMessageUrl: expect.any(String) });
  expect(await runsOf(gs.stack, 'triage_pull_request')).toHaveLength(1);
  // Both prompts are on the trail: GitHub asked for by the paused step, Slack by the gateway's pre-flight; both granted.
  const runId = String((result._meta as Record<string, unknown>)['baton/runId']);
  const consent = (await gs.stack.stores.audit.query({ rootRunId: runId })).filter((record) => record.kind.startsWith('consent.'));
  expect(consent.map((record) => [record.kind, record.app]).sort()).toEqual([
    ['consent.granted', 'github'],
    ['consent.granted', 'slack'],
    ['consent.requested', 'github'],
    ['consent.requested', 'slack'],
  ]);

  // The outcome was delivered: the same call again is a new run, not a replay of the old one.
  await client.callTool(triage);
  expect(await runsOf(gs.stack, 'triage_pull_request')).toHaveLength(2);
  await client.close();
}, 120_000);

test('a client without elicitation gets text plus structured links, and re-attaches by calling again or through get_run_result', async () => {
  const client = await gs.connect(await gs.tokenFor('bob'));
  const call = { name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } };
  const first = await client.callTool(call);
  const structured = first.structuredContent as { status: string; runId: string; authorizationUrls: Record<string, string> };
  expect(structured).toEqual({ status: 'auth_required', runId: expect.any(String), authorizationUrls: { github: expect.stringMatching(new RegExp(`^${gs.url}/connect/`)) } });
  const text = (first.content as { type: string; text: string }[])[0]!.text;
  expect(text).toContain('connect GitHub');
  expect(text).toContain(structured.authorizationUrls.github);
  expect(first.isError).toBeFalsy();

  // Calling again before consenting re-attaches and asks again with the same link.
  const again = await client.callTool(call);
  expect(again.structuredContent).toEqual(structured);

  await gs.consentInBrowser(structured.authorizationUrls.github, 'bob');
  const viaGetRunResult = await client.callTool({ name: 'get_run_result', arguments: { runId: structured.runId } });
  expect(viaGetRunResult.structuredContent).toMatchObject({ repo: 'acme/widgets', number: 1, author: expect.any(String) });
  expect(await runsOf(gs.stack, 'read_pull_request')).toEqual([structured.runId]);
  await client.close();
}, 120_000);

test("get_run_result never reveals another user's run", async () => {
  const bob = await gs.connect(await gs.tokenFor('bob'));
  const [aliceRun] = await runsOf(gs.stack, 'triage_pull_request');
  await expect(bob.callTool({ name: 'get_run_result', arguments: { runId: aliceRun! } })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(`No run "${aliceRun}" of yours`) });
  await bob.close();
});

test.each(['2025-06-18', '2025-11-25'])('initialize with protocol version %s is answered in that version', async (version) => {
  const answer = await postMcp(
    gs.mcpUrl,
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } },
    { authorization: `Bearer ${await gs.tokenFor('bob')}`, 'mcp-protocol-version': version },
  );
  expect(answer.status).toBe(200);
  expect(answer.json.result).toMatchObject({ protocolVersion: version, serverInfo: { name: 'baton' }, capabilities: { tools: {} } });
});
