/**
 * Issue 15: a bounded property-based fuzz run (fast-check) of the MCP endpoint and the consent routes of a
 * real gateway (loopback only): random JSON-RPC shapes, ids, params, protocol-version and content-type headers,
 * bearer tokens (alice's real one, garbage, none) and paths. Every answer must be below 500; afterwards the
 * gateway still answers a normal call, no run was started by a request that was not alice's, and the figures
 * (requests, statuses, time, rows and heap before and after) are printed for the README.
 */
import fc from 'fast-check';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp } from './support/mcp-http.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started));

const RUNS = 2000;
const tables = ['gateway_runs', 'consent_requests', 'browser_sign_ins', 'browser_sessions', 'audit_events', 'mcp_legacy_clients'] as const;
const rowCounts = async () =>
  Object.fromEntries(await Promise.all(tables.map(async (table) => [table, Number((await gs.stack.stores.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n)] as const)));

const method = fc.oneof(
  fc.constantFrom(
    'initialize',
    'tools/list',
    'tools/call',
    'resources/list',
    'prompts/list',
    'ping',
    'notifications/initialized',
    'tasks/get',
    'tasks/update',
    'tasks/cancel',
    'tasks/result',
    'tasks/list',
    'server/discover',
  ),
  fc.string({ maxLength: 40 }),
);
const jsonRpc = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.jsonValue()),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.jsonValue()),
    method,
    params: fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ name: fc.oneof(fc.constantFrom('read_pull_request', 'triage_pull_request', 'get_run_result'), fc.string()), arguments: fc.jsonValue({ maxDepth: 3 }) }),
    ),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  jsonRpc.map((message) => JSON.stringify(message)),
  fc.array(jsonRpc, { maxLength: 4 }).map((batch) => JSON.stringify(batch)),
  fc.string({ maxLength: 200 }),
  fc.constant(''),
);
const auth = fc.constantFrom('alice', 'garbage', 'none', 'malformed-jwt');
const protocolVersion = fc.option(fc.oneof(fc.constantFrom('2025-11-25', '2025-06-18', '2026-07-28'), fc.string({ maxLength: 20 })), { nil: undefined });
const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', '');
const segment = fc.string({ maxLength: 24 }).map((text) => encodeURIComponent(text));
const consentPath = fc.oneof(
  segment.map((id) => ({ method: 'GET', path: `/connect/${id}` })),
  segment.map((id) => ({ method: 'POST', path: `/connect/${id}` })),
  fc.tuple(segment, segment).map(([app, state]) => ({ method: 'GET', path: `/oauth/callback/${app}?state=${state}&code=${state}` })),
  segment.map((id) => ({ method: 'GET', path: `/account/runs/${id}` })),
);

test(`${RUNS} random MCP requests and consent-route requests: no 5xx, no crash, nothing started by strangers`, async () => {
  const aliceToken = await gs.tokenFor('alice');
  const bearer = (who: string) => ({ alice: `Bearer ${aliceToken}`, garbage: 'Bearer abc', none: undefined, 'malformed-jwt': 'Bearer eyJhbGciOiJub25lIn0.e30.' })[who];
  const rowsBefore = await rowCounts();
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  const started = performance.now();

  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.record({ kind: fc.constant('mcp' as const), body, auth, protocolVersion, contentType }), fc.record({ kind: fc.constant('page' as const), target: consentPath, auth, body })),
      async (request) => {
        const authorization = bearer(request.auth);
        const response =
          request.kind === 'mcp'
            ? await fetch(gs.mcpUrl, {
                method: 'POST',
                headers: {
                  accept: 'application/json, text/event-stream',
                  ...(request.contentType ? { 'content-type': request.contentType } : {}),
                  ...(authorization ? { authorization } : {}),
                  ...(request.protocolVersion ? { 'mcp-protocol-version': request.protocolVersion } : {}),
                },
                body: request.body,
                signal: AbortSignal.timeout(10_000),
              })
            : await fetch(`${gs.url}${request.target.path}`, {
                method: request.target.method,
                redirect: 'manual',
                headers: { ...(authorization ? { authorization } : {}), ...(request.target.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
                ...(request.target.method === 'POST' ? { body: request.body } : {}),
                signal: AbortSignal.timeout(10_000),
              });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) serverErrors.push(`${response.status} ${JSON.stringify(request).slice(0, 300)}`);
        return response.status < 500;
      },
    ),
    { numRuns: RUNS, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true, seed: 2026_12_03 },
  );

  const elapsedMs = performance.now() - started;
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const rowsAfter = await rowCounts();
  const growth = Object.fromEntries(tables.map((table) => [table, rowsAfter[table]! - rowsBefore[table]!]));
  console.log(
    [
      `fuzz: ${RUNS} requests in ${(elapsedMs / 1000).toFixed(1)} s (seed 20261203)`,
      `statuses: ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([status, count]) => `${status}×${count}`)
        .join(', ')}`,
      `rows added: ${JSON.stringify(growth)}`,
      `heap: ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MiB`,
    ].join('\n'),
  );
  expect(serverErrors).toEqual([]);

  // Still serving: a normal call answers.
  const list = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${aliceToken}` });
  expect(list.status).toBe(200);
  // Every run started belongs to alice (the only real token); no row grew by more than one per request.
  const runs = await gs.stack.stores.db.all<{ subject: string }>('SELECT subject FROM gateway_runs');
  expect(runs.every((run) => run.subject === 'alice')).toBe(true);
  for (const table of tables) expect(growth[table]).toBeLessThanOrEqual(RUNS * (table === 'audit_events' ? 8 : 1));
}, 300_000);
