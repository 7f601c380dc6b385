/** Bad input at /mcp gets a clear error and the gateway keeps serving; rate limits, DNS-rebinding checks, log redaction. */
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { ApiTokenStore } from '../core/api-tokens/api-token-store.ts';
import { GatewayStack } from './support/gateway-stack.ts';
import { postMcp, toolsCall } from './support/mcp-http.ts';
import { runsOf } from './support/runs.ts';

let gs: GatewayStack;
let aliceToken: string;
const logLines: string[] = [];

beforeAll(async () => {
  const logTo = new Writable({ write: (chunk: Buffer, _encoding, done) => void (logLines.push(chunk.toString()), done()) });
  gs = await GatewayStack.start({ env: { BATON_MAX_BODY_BYTES: String(64 * 1024), BATON_RATE_LIMIT_PER_MINUTE: '40' }, logTo });
  aliceToken = await gs.tokenFor('alice');
}, 120_000);

afterAll(async () => {
  await gs?.close();
});

const asAlice = () => ({ authorization: `Bearer ${aliceToken}` });

async function stillServing(): Promise<void> {
  const answer = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 99, method: 'tools/list' }, asAlice());
  expect(answer.status).toBe(200);
  expect(answer.json.result.tools.length).toBeGreaterThan(0);
}

test.each([
  ['an oversized body', 'x'.repeat(100 * 1024), 413, -32600, 'Request body too large: the limit is 65536 bytes.'],
  ['a body that is not JSON', '{"jsonrpc": "2.0", "method": ', 400, -32700, 'Parse error: the body is not valid JSON.'],
  ['a JSON-RPC batch', [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }], 400, -32600, 'JSON-RPC batches are not supported'],
  ['the wrong jsonrpc version', { jsonrpc: '1.0', id: 1, method: 'tools/list' }, 400, -32600, '"jsonrpc" must be "2.0"'],
  ['a method that is not a string', { jsonrpc: '2.0', id: 1, method: 42 }, 400, -32600, '"method" must be a string naming the MCP method'],
  ['params that are not an object', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: [1, 2] }, 400, -32600, '"params" must be an object when present'],
  ['a bare JSON string', '"hello"', 400, -32600, 'Not a JSON-RPC 2.0 request'],
])('%s gets a clear JSON-RPC error and the gateway keeps serving', async (_name, body, status, code, message) => {
  const answer = await postMcp(gs.mcpUrl, typeof body === 'string' ? body : body, asAlice());
  expect(answer.status).toBe(status);
  expect(answer.json).toMatchObject({ jsonrpc: '2.0', error: { code, message: expect.stringContaining(message) } });
  await stillServing();
});

test('an unknown tool and schema-violating arguments get invalid params, and nothing runs', async () => {
  const unknown = await postMcp(gs.mcpUrl, toolsCall('delete_everything', {}), asAlice());
  expect(unknown.json.error).toEqual({ code: -32602, message: 'Unknown tool "delete_everything". Call tools/list to see the tools you may run.' });

  const invalid = await postMcp(gs.mcpUrl, toolsCall('triage_pull_request', { repo: 'not a repo', number: -1, extra: true }), asAlice());
  expect(invalid.json.error.code).toBe(-32602);
  expect(invalid.json.error.message).toContain('Invalid arguments for "triage_pull_request"');
  expect(invalid.json.error.message).toContain('repo: expected "owner/name", e.g. "acme/widgets"');
  expect(invalid.json.error.message).toContain('number:');

  const missing = await postMcp(gs.mcpUrl, toolsCall('triage_pull_request', undefined), asAlice());
  expect(missing.json.error.message).toContain('repo:');
  expect(await runsOf(gs.stack, 'triage_pull_request')).toEqual([]);
  await stillServing();
});

test('a caller over the rate limit gets a clear 429; other callers are unaffected', async () => {
  const { token } = await new ApiTokenStore(gs.stack.stores.db).create('busy-script', { tenant: 'acme' });
  const statuses: number[] = [];
  for (let i = 0; i < 42; i += 1) {
    statuses.push((await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: i, method: 'tools/list' }, { authorization: `Bearer ${token}` })).status);
  }
  expect(statuses.slice(0, 40).every((status) => status === 200)).toBe(true);
  const limited = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 7, method: 'tools/list' }, { authorization: `Bearer ${token}` });
  expect(limited.status).toBe(429);
  expect(limited.json.error.message).toBe('Too many requests: at most 40 per minute per caller. Wait a minute and try again.');
  expect(limited.headers.get('ratelimit-policy')).toContain('40');
  await stillServing();
});

test('requests with a foreign Host or Origin are refused (DNS-rebinding protection)', async () => {
  // fetch() will not send a made-up Host header, so this one goes out through node:http.
  const foreignHost = await new Promise<number>((resolve, reject) => {
    request(`${gs.url}/healthz`, { headers: { host: 'evil.example' } }, (response) => resolve(response.resume().statusCode!))
      .on('error', reject)
      .end();
  });
  expect(foreignHost).toBe(403);
  const foreignOrigin = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { ...asAlice(), origin: 'https://evil.example' });
  expect(foreignOrigin.status).toBe(403);
  const ownOrigin = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { ...asAlice(), origin: gs.url });
  expect(ownOrigin.status).toBe(200);
});

test('logs are structured and never contain a bearer token, code or state', async () => {
  // A whole consent round trip, so the log has seen tokens, codes and states go by.
  const client = await gs.connect(aliceToken);
  const paused = await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  const { authorizationUrls } = paused.structuredContent as { authorizationUrls: { github: string } };
  await gs.consentInBrowser(authorizationUrls.github, 'alice');
  await client.close();

  const entries = logLines
    .join('')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(entries.some((entry) => entry.path === '/mcp' && entry.status === 200)).toBe(true);
  expect(entries.some((entry) => typeof entry.path === 'string' && entry.path.startsWith('/oauth/callback/github'))).toBe(true);
  const issued = await gs.stack.sandboxGet<{ secrets: string[] }>('/_sandbox/issued-secrets');
  const everything = logLines.join('');
  for (const secret of [aliceToken, ...issued.secrets]) expect(everything).not.toContain(secret);
  expect(everything).not.toMatch(/[?&](code|state)=/);
});
