/**
 * `baton upstreams [--json]`: the upstream MCP servers this gateway serves (mcpServers in baton.yaml) —
 * whether the gateway reached each, how many tools it has cached, and the last error — through the admin
 * API (owner, admin or viewer role; BATON_TOKEN or --token).
 */
import { parseCommandLine } from './command-line.ts';
import type { UpstreamStatus } from '../core/upstreams/upstream-catalogue.ts';
import { apiOptions, callGateway, GatewayApiError } from './gateway-api.ts';

const usage = 'usage: baton upstreams [--json]   (needs the owner, admin or viewer role; BATON_TOKEN or --token)';

const { values } = parseCommandLine('upstreams', usage, { json: { type: 'boolean' }, ...apiOptions });

try {
  const { upstreams } = (await (await callGateway({ url: values.url, token: values.token }, '/admin/upstreams')).json()) as { upstreams: UpstreamStatus[] };
  if (values.json) console.log(JSON.stringify(upstreams, null, 2));
  else if (upstreams.length === 0) console.log('No upstream MCP servers are configured (mcpServers in baton.yaml).');
  else
    for (const upstream of upstreams) {
      const state = upstream.reachable === null ? 'not contacted yet' : upstream.reachable ? 'reachable' : 'unreachable';
      const fetched = upstream.fetchedAt ? `, tools fetched ${new Date(upstream.fetchedAt).toISOString()}` : '';
      console.log(`${upstream.id.padEnd(16)} ${state}, ${upstream.toolsCached} tools cached${fetched}  ${upstream.url}`);
      if (upstream.lastError) console.log(`  last error: ${upstream.lastError}`);
    }
} catch (error) {
  if (!(error instanceof GatewayApiError)) throw error;
  console.error(`baton upstreams: ${error.message}`);
  process.exitCode = 1;
}
