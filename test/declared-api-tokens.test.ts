/** API tokens declared in baton.yaml (value from a secret reference): usable at once, kept hashed, checked at start. */
import { generateApiToken } from '../core/api-tokens/api-token-store.ts';
import { createLogger } from '../gateway/logger.ts';
import { serveGateway } from '../gateway/serve.ts';
import { tools } from '../workflows/catalog.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp } from './support/mcp-http.ts';

const declared = generateApiToken().token;
let gs: GatewayStack;

gatewayStackForSuite((started) => (gs = started), {
  config: () => ({
    yaml: `
apiTokens:
  - { name: nightly-ci, tenant: acme, token: env:NIGHTLY_CI_TOKEN }
servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: [nightly-ci] }
`,
    env: { NIGHTLY_CI_TOKEN: declared },
  }),
});

test('a declared token works as a service caller, and only its hash is stored', async () => {
  const answer = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${declared}` });
  expect(answer.status).toBe(200);
  expect(answer.json.result.tools.map((t: { name: string }) => t.name)).toContain('open_ops_ticket');
  const rows = await gs.stack.stores.db.all<Record<string, unknown>>('SELECT * FROM api_tokens');
  expect(rows).toEqual([expect.objectContaining({ name: 'nightly-ci', tenant: 'acme', revoked_at: null })]);
  expect(JSON.stringify(rows)).not.toContain(declared.split('_')[2]);
});

test('a declared token that is not a Baton token, or whose secret is missing, stops start-up naming the entry', async () => {
  const start = (value: string | undefined) =>
    serveGateway({ env: { ...gs.gatewayEnv, PORT: '0', BATON_PUBLIC_URL: undefined, NIGHTLY_CI_TOKEN: value }, tools, log: createLogger({ level: 'silent' }) });
  await expect(start('hunter2')).rejects.toThrow(/baton\.yaml {2}apiTokens\.0\.token: must be a Baton API token \(baton_<id>_<secret>\); make one with `baton api-token generate`/);
  await expect(start(undefined)).rejects.toThrow(/apiTokens\.0\.token: environment variable NIGHTLY_CI_TOKEN is not set/);
});
