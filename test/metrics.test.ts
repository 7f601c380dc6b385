/**
 * Prometheus metrics at the gateway's /metrics: tool calls by tool and answer with latency, consent
 * prompts and completions with the time waited, denied calls — and nothing about who.
 */
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { sample, scrapeMetrics } from './support/metrics.ts';

const config = `servers:
  default:
    tools: "*"
    access: { users: [alice, bob] }
tools:
  open_ops_ticket:
    access: { users: [alice] }
`;

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), { config, env: { BATON_METRICS_TOKEN: 'scrape-me-please-0123' } });

const scrape = (token = 'scrape-me-please-0123') => scrapeMetrics(`${gs.url}/metrics`, token);

test('a consent round trip and a denied call show up in /metrics, labelled by tool and app only', async () => {
  const alice = await gs.connect(await gs.tokenFor('alice'));
  const paused = await alice.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  const link = (paused.structuredContent as { authorizationUrls: { github: string } }).authorizationUrls.github;
  expect((await gs.consentInBrowser(link, 'alice')).status).toBe(200);
  const done = await alice.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  expect(done.structuredContent).toMatchObject({ title: expect.any(String) });
  await alice.close();

  const bob = await gs.connect(await gs.tokenFor('bob'));
  await expect(bob.callTool({ name: 'open_ops_ticket', arguments: { summary: 'nope' } })).rejects.toThrow(/not on the access list/);
  await bob.close();

  const { status, text } = await scrape();
  expect(status).toBe(200);
  expect(sample(text, 'baton_mcp_tool_calls_total', { tool: 'read_pull_request', answer: 'needs_consent' })).toBe(1);
  expect(sample(text, 'baton_mcp_tool_calls_total', { tool: 'read_pull_request', answer: 'completed' })).toBe(1);
  expect(sample(text, 'baton_mcp_tool_call_seconds_count', { tool: 'read_pull_request', answer: 'completed' })).toBe(1);
  expect(sample(text, 'baton_mcp_tool_call_seconds_bucket', { tool: 'read_pull_request', answer: 'completed', le: '+Inf' })).toBe(1);
  expect(sample(text, 'baton_consent_completions_total', { app: 'github', decision: 'granted' })).toBe(1);
  expect(sample(text, 'baton_consent_wait_seconds_count', { app: 'github', decision: 'granted' })).toBe(1);
  expect(sample(text, 'baton_connection_changes_total', { app: 'github', change: 'connected' })).toBe(1);
  expect(sample(text, 'baton_denied_total', { tool: 'open_ops_ticket' })).toBe(1);
  expect(sample(text, 'baton_process_resident_memory_bytes', { role: 'gateway' })).toBeGreaterThan(0);
  // Series name tools and apps, never people.
  expect(text).not.toMatch(/alice|bob/);

  // The worker counts what it did: the run, its app call, the consent prompt.
  const worker = (await scrapeMetrics(gs.stack.workerMetricsUrl, 'scrape-me-please-0123')).text;
  expect(sample(worker, 'baton_tool_calls_total', { tool: 'read_pull_request', outcome: 'completed', role: 'worker' })).toBe(1);
  expect(sample(worker, 'baton_tool_call_duration_seconds_count', { tool: 'read_pull_request', outcome: 'completed' })).toBe(1);
  expect(sample(worker, 'baton_app_calls_total', { app: 'github', credential: 'user', outcome: 'ok' })).toBe(1);
  expect(sample(worker, 'baton_app_calls_total', { app: 'github', credential: 'none', outcome: 'connection_required' })).toBe(1);
  expect(sample(worker, 'baton_consent_prompts_total', { app: 'github' })).toBe(1);
  expect(worker).not.toMatch(/alice|bob/);
});

test('/metrics needs the configured scrape token', async () => {
  expect((await scrape('wrong-token-wrong-token')).status).toBe(401);
  const anonymous = await fetch(`${gs.url}/metrics`);
  expect(anonymous.status).toBe(401);
  expect(await anonymous.text()).toContain('BATON_METRICS_TOKEN');
});
