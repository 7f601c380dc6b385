/** The optional TrueFoundry-compatible prompt: HTTP 401 with McpAuthRequiredError and the links. */
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp, toolsCall } from './support/mcp-http.ts';
import { runsOf } from './support/runs.ts';

let gs: GatewayStack;

gatewayStackForSuite((started) => (gs = started), { env: { BATON_CONSENT_PROMPT: 'http-401' } });

test('a paused call answers 401 McpAuthRequiredError with Baton links; after consent the same call gets the result from the same run', async () => {
  const auth = { authorization: `Bearer ${await gs.tokenFor('alice')}` };
  const call = toolsCall('read_pull_request', { repo: 'acme/widgets', number: 1 });
  const paused = await postMcp(gs.mcpUrl, call, auth);
  expect(paused.status).toBe(401);
  expect(paused.json).toEqual({
    error: { type: 'McpAuthRequiredError' },
    authorization_urls: { github: expect.stringMatching(new RegExp(`^${gs.url}/connect/`)) },
    server_names: { github: 'GitHub' },
    message: expect.stringContaining('connect GitHub'),
  });

  await gs.consentInBrowser(paused.json.authorization_urls.github, 'alice');
  const done = await postMcp(gs.mcpUrl, call, auth);
  expect(done.status).toBe(200);
  expect(done.json.result.structuredContent).toMatchObject({ repo: 'acme/widgets', title: expect.any(String) });
  expect(await runsOf(gs.stack, 'read_pull_request')).toHaveLength(1);
});
