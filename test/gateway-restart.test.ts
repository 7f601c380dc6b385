/**
 * Nothing a retry needs lives in one gateway's memory: a 2026-era client's requestState still
 * re-attaches after the gateway restarts, and is refused when forged for another user or expired.
 */
import type { Client } from '@modelcontextprotocol/client';
import { createLogger } from '../gateway/logger.ts';
import { serveGateway } from '../gateway/serve.ts';
import { tools } from '../workflows/catalog.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { runsOf } from './support/runs.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started));

const modernManual = { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } }, inputRequired: { autoFulfill: false } } as const;
const call = { name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } };

interface InputRequired {
  resultType: 'input_required';
  inputRequests: Record<string, { method: string; params: { mode: string; url: string; message: string } }>;
  requestState: string;
}

const callWithState = (client: Client, requestState?: string) =>
  client.callTool({ ...call, ...(requestState ? { requestState } : {}) } as never, { allowInputRequired: true }) as unknown as Promise<InputRequired & { structuredContent?: unknown }>;

test('a paused run survives a gateway restart: consent still resumes it and the old requestState gets the result', async () => {
  let client = await gs.connect(await gs.tokenFor('alice'), modernManual);
  const paused = await callWithState(client);
  expect(paused.resultType).toBe('input_required');
  const { url } = paused.inputRequests.connect_github!.params;
  expect(paused.inputRequests.connect_github).toMatchObject({ method: 'elicitation/create', params: { mode: 'url', url: expect.stringMatching(new RegExp(`^${gs.url}/connect/`)) } });
  await client.close();

  await gs.restartGateway();

  expect((await gs.consentInBrowser(url, 'alice')).text).toContain('GitHub connected as @alice');
  client = await gs.connect(await gs.tokenFor('alice'), modernManual);
  const done = await callWithState(client, paused.requestState);
  expect(done.structuredContent).toMatchObject({ repo: 'acme/widgets', number: 1, title: expect.any(String) });
  expect(await runsOf(gs.stack, 'read_pull_request')).toHaveLength(1);
  await client.close();
}, 120_000);

test("bob cannot use alice's requestState", async () => {
  const alice = await gs.connect(await gs.tokenFor('alice'), modernManual);
  // alice has GitHub by now but not Slack: triage pauses for Slack.
  const paused = (await alice.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } }, { allowInputRequired: true })) as unknown as InputRequired;
  expect(paused.resultType).toBe('input_required');
  await alice.close();

  const bob = await gs.connect(await gs.tokenFor('bob'), modernManual);
  await expect(
    bob.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 }, requestState: paused.requestState } as never, { allowInputRequired: true }),
  ).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('Invalid or expired requestState') });
  await bob.close();
}, 60_000);

test('an expired requestState is refused', async () => {
  const shortLived = await serveGateway({
    env: { ...gs.gatewayEnv, PORT: '0', BATON_PUBLIC_URL: undefined, BATON_REQUEST_STATE_TTL_SECONDS: '1' },
    tools,
    log: createLogger({ level: 'silent' }),
  });
  try {
    const token = await gs.tokenFor('bob', undefined, shortLived.mcpUrl);
    const client = await gs.connect(token, modernManual, shortLived.mcpUrl);
    const paused = await callWithState(client);
    expect(paused.resultType).toBe('input_required');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await expect(callWithState(client, paused.requestState)).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('Invalid or expired requestState') });
    await client.close();
  } finally {
    await shortLived.close();
  }
}, 60_000);
