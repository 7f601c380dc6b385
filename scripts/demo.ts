/**
 * `npm run demo -- [user] [repo] [number]`: the product loop from an agent's side, with a real MCP client
 * against a running `npm start`: sign in as the user, call triage_pull_request, print the consent links
 * Baton hands back, and wait (through get_run_result) until the run finishes.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { devEndpoints, devToken } from '../cli/dev-token.ts';

const [user = 'alice', repo = 'acme/widgets', number = '1'] = process.argv.slice(2);
const { mcpUrl } = devEndpoints();
const token = await devToken(user).catch((error: Error) => {
  console.error(`demo: ${error.message}`);
  process.exit(1);
});
const client = new Client({ name: 'baton-demo', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
console.log(`demo: signed in as ${user}; calling triage_pull_request on ${repo}#${number} at ${mcpUrl}`);

type Answer = { status?: string; runId?: string; authorizationUrls?: Record<string, string> };
let answer = await client.callTool({ name: 'triage_pull_request', arguments: { repo, number: Number(number) } });
const shown = new Set<string>();
for (;;) {
  const structured = (answer.structuredContent ?? {}) as Answer;
  if (structured.status === 'auth_required') {
    for (const [app, url] of Object.entries(structured.authorizationUrls ?? {})) {
      if (!shown.has(url)) console.log(`demo: the run waits for you: connect ${app} at ${url} (sign in as ${user}/${user})`);
      shown.add(url);
    }
    await sleep(2000); // the person is in their browser; ask again in a moment
  } else if (structured.status !== 'running') {
    break;
  }
  answer = await client.callTool({ name: 'get_run_result', arguments: { runId: structured.runId! } });
}
console.log(answer.isError ? 'demo: the run failed:' : 'demo: result:');
for (const block of answer.content as { type: string; text?: string }[]) if (block.text) console.log(block.text);
await client.close();
