/** A 2026-07-28 MCP client, end to end: list, call as alice with nothing connected, consent in the browser, result. */
import type { Client } from '@modelcontextprotocol/client';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { runsOf as runsOfType } from './support/runs.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started));

const modern = { versionNegotiation: { mode: { pin: '2026-07-28' } } } as const;

const runsOf = (tool: string) => runsOfType(gs.stack, tool);

test('tools/list shows the caller the tools they may run, with schemas and annotations', async () => {
  const client = await gs.connect(await gs.tokenFor('alice'), modern);
  const { tools } = await client.listTools();
  const triage = tools.find((tool) => tool.name === 'triage_pull_request');
  expect(triage).toMatchObject({
    title: 'Triage a pull request',
    inputSchema: { type: 'object', properties: { repo: expect.any(Object), number: expect.any(Object) }, required: ['repo', 'number'] },
    annotations: { readOnlyHint: false, openWorldHint: true },
  });
  expect(tools.map((tool) => tool.name)).toContain('get_run_result');
  await client.close();
});

test('alice with no connections: input_required with a link per app, consent in the browser, the retry gets the result from the same run', async () => {
  const client: Client = await gs.connect(await gs.tokenFor('alice'), { ...modern, capabilities: { elicitation: { url: {} } } });
  const asked: { message: string; url: string }[] = [];
  const pages: string[] = [];
  // What a real client does with a URL elicitation: show it; the user opens it and finishes consent.
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { mode: string; message: string; url: string };
    expect(params.mode).toBe('url');
    asked.push(params);
    const page = await gs.consentInBrowser(params.url, 'alice');
    pages.push(page.text);
    return { action: 'accept' };
  });

  const result = await client.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });

  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ title: expect.any(String), jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  // Pre-flight asked for both apps the run needs at once, each through Baton's own link.
  expect(asked.map((a) => new URL(a.url).origin)).toEqual([gs.url, gs.url]);
  expect(asked.every((a) => /^\/connect\/[\w-]+$/.test(new URL(a.url).pathname))).toBe(true);
  expect(asked.map((a) => a.message).join(' ')).toMatch(/GitHub[\s\S]*Slack/);
  expect(pages).toHaveLength(2);
  expect(pages).toEqual(expect.arrayContaining([expect.stringContaining('GitHub connected as @alice — you can return to your assistant.'), expect.stringContaining('Slack connected as @alice')]));
  expect(await runsOf('triage_pull_request')).toHaveLength(1);
  await client.close();
}, 120_000);

test('a forged or foreign requestState is refused before anything runs', async () => {
  const client = await gs.connect(await gs.tokenFor('bob'), { ...modern, inputRequired: { autoFulfill: false } });
  const before = await runsOf('triage_pull_request');
  const forged = client.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 2 }, requestState: 'v1.eyJwIjp7InJ1bklkIjoieCJ9fQ.AAAA' } as never, {
    allowInputRequired: true,
  });
  await expect(forged).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('Invalid or expired requestState') });
  expect(await runsOf('triage_pull_request')).toEqual(before);
  await client.close();
});

test('no token, code or secret of any of this reached Temporal history', async () => {
  await expectNoSecretsInHistories(gs.stack);
});
