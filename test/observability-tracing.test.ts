/**
 * Observability: one OpenTelemetry trace from the gateway's HTTP request through the run, its child
 * workflows and activities (exported with OTLP/HTTP to a real receiver started here), and runs that
 * can be found by Baton's search attributes: who, which tool, and which app a paused run waits for.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { WorkflowHandle } from '@temporalio/client';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { BatonWaitingFor } from '../workflows/search-attributes.ts';
import { triagePullRequest } from '../workflows/tools/triage-pull-request.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { alice, bob } from './support/identities.ts';

interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, string | undefined>;
}

/** The parts of an OTLP/JSON ExportTraceServiceRequest this suite reads. */
interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: {
      spans?: {
        name: string;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        links?: { traceId: string; spanId: string }[];
        attributes?: { key: string; value: { stringValue?: string } }[];
      }[];
    }[];
  }[];
}

/** A minimal OTLP/HTTP trace receiver (JSON encoding, what the exporter sends), like a collector's. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      this.#receive(req, res).catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
  }

  async #receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = await promisify(gunzip)(body);
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
      res.writeHead(415).end();
      return;
    }
    const request = JSON.parse(body.toString('utf8')) as OtlpTraces;
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service = resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value.stringValue ?? '';
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            name: span.name,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
            attributes: Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, value.stringValue])),
          });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const receiver = new OtlpReceiver();
let receiverUrl = '';
// Registered before the stack's beforeAll, so the stack's configuration can name the receiver.
beforeAll(async () => {
  receiverUrl = await receiver.start();
});
afterAll(() => receiver.close());

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), {
  // The env a configuration file brings reaches the worker process and the gateway alike.
  config: () => ({
    yaml: 'servers:\n  default:\n    tools: "*"\n    access: { users: ["*"], apiTokens: ["*"] }\n',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_BSP_SCHEDULE_DELAY: '100' },
  }),
});

/** Polls `check` until it stops throwing (visibility and span export are both asynchronous). */
async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function workflowIds(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const run of gs.stack.client.workflow.list({ query })) ids.push(run.workflowId);
  return ids;
}

test('one trace from the gateway request through the run, a child workflow and an activity, with parent links', async () => {
  await gs.stack.consent(bob, 'github');
  await gs.stack.consent(bob, 'slack');
  const client = await gs.connect(await gs.tokenFor('bob'));
  const result = await client.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  expect(result.isError).toBeFalsy();
  await client.close();

  const trace = await eventually(() => {
    const start = receiver.spans.find((span) => span.service === 'baton-gateway' && span.name === 'UpdateWithStartWorkflow:baton.awaitOutcome');
    if (!start) throw new Error('the gateway has not exported its UpdateWithStartWorkflow span yet');
    const spans = receiver.spans.filter((span) => span.traceId === start.traceId);
    for (const name of ['RunWorkflow:triage_pull_request', 'RunWorkflow:summarize_pull_request', 'RunWorkflow:notify_team', 'RunActivity:callApp']) {
      if (!spans.some((span) => span.name === name)) throw new Error(`no ${name} span in the trace yet`);
    }
    return spans;
  });

  const byId = new Map(trace.map((span) => [span.spanId, span]));
  const parentOf = (span: ReceivedSpan) => (span.parentSpanId ? byId.get(span.parentSpanId) : undefined);
  const one = (name: string) => trace.find((span) => span.name === name)!;

  // The trace starts at the gateway's HTTP request for the tools/call.
  const start = one('UpdateWithStartWorkflow:baton.awaitOutcome');
  const request = parentOf(start)!;
  expect(request).toMatchObject({ service: 'baton-gateway', name: 'POST /mcp', parentSpanId: undefined });
  // Root run <- the gateway's start; child run <- its start in the root run; activity <- its scheduling.
  const root = one('RunWorkflow:triage_pull_request');
  expect(root.service).toBe('baton-worker');
  expect(parentOf(root)).toBe(start);
  const child = one('RunWorkflow:summarize_pull_request');
  expect(parentOf(child)).toMatchObject({ name: 'StartChildWorkflow:summarize_pull_request' });
  expect(parentOf(parentOf(child)!)).toBe(root);
  const sibling = one('RunWorkflow:notify_team');
  expect(parentOf(parentOf(sibling)!)).toBe(root);
  const activities = trace.filter((span) => span.name === 'RunActivity:callApp');
  for (const activity of activities) {
    expect(activity.service).toBe('baton-worker');
    expect(parentOf(activity)).toMatchObject({ name: 'StartActivity:callApp' });
  }
  // The GitHub read in one child, Slack and Jira in the other, the GitHub comment in the root run.
  expect(activities.length).toBeGreaterThanOrEqual(5);
  expect(activities.map((activity) => parentOf(parentOf(activity)!))).toEqual(expect.arrayContaining([child, sibling, root]));
  // Every span of the trace hangs off the request: no orphan started a trace of its own.
  for (const span of trace) {
    let ancestor: ReceivedSpan | undefined = span;
    while (ancestor && ancestor !== request) ancestor = parentOf(ancestor);
    expect(ancestor).toBe(request);
  }
  // The run's audit records carry the same trace id: from an audit record to the trace, and back.
  const runId = String((result._meta as Record<string, unknown>)['baton/runId']);
  const records = await gs.stack.stores.audit.query({ rootRunId: runId });
  expect(records.filter((record) => record.kind === 'app_call')).toHaveLength(5);
  expect(new Set(records.map((record) => record.traceId))).toEqual(new Set([start.traceId]));
}, 120_000);

test("a client's traceparent is recorded as the client's: Baton's request starts its own trace, linked to the client's span", async () => {
  await gs.stack.consent(bob, 'github');
  const clientTraceId = 'c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1';
  const clientSpanId = '5a5a5a5a5a5a5a5a';
  const client = new Client({ name: 'traced-client', version: '1.0.0' });
  const headers = { authorization: `Bearer ${await gs.tokenFor('bob')}`, traceparent: `00-${clientTraceId}-${clientSpanId}-01` };
  await client.connect(new StreamableHTTPClientTransport(new URL(gs.mcpUrl), { requestInit: { headers } }));
  const result = await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  expect(result.isError).toBeFalsy();
  await client.close();
  const request = await eventually(() => {
    const found = receiver.spans.find((span) => span.name === 'POST /mcp' && span.attributes['baton.client.trace_id'] === clientTraceId);
    if (!found) throw new Error('the request span has not been exported yet');
    return found;
  });
  expect(request.traceId).not.toBe(clientTraceId);
  expect(request.parentSpanId).toBeUndefined();
  expect(request.links).toEqual([{ traceId: clientTraceId, spanId: clientSpanId }]);
  expect(receiver.spans.filter((span) => span.traceId === clientTraceId)).toEqual([]);
  // The audit trail records Baton's trace, not the one the client named.
  const runId = String((result._meta as Record<string, unknown>)['baton/runId']);
  const traceIds = new Set((await gs.stack.stores.audit.query({ rootRunId: runId })).map((record) => record.traceId));
  expect(traceIds).not.toContain(clientTraceId);
  expect(traceIds.size).toBeGreaterThan(0);
}, 60_000);

test('runs are found by user and tool, and a paused run by the app it waits for, until consent', async () => {
  const handle: WorkflowHandle = await gs.stack.run(alice, triagePullRequest, { repo: 'acme/widgets', number: 1 });
  const own = `WorkflowId = '${handle.workflowId}'`;

  const first = await gs.stack.awaitOutcome(handle);
  expect(first).toMatchObject({ state: 'paused', pending: [expect.objectContaining({ app: 'github' })] });
  // The pause happens in a child workflow; the root run carries what the tree waits for.
  await eventually(async () => expect(await workflowIds(`${own} AND BatonWaitingFor = 'github'`)).toEqual([handle.workflowId]));

  await gs.stack.consent(alice, 'github');
  const second = await gs.stack.awaitOutcome(handle, [first.pending[0]!.consentId]);
  expect(second).toMatchObject({ state: 'paused', pending: [expect.objectContaining({ app: 'slack' })] });
  await eventually(async () => {
    expect(await workflowIds(`${own} AND BatonWaitingFor = 'slack'`)).toEqual([handle.workflowId]);
    expect(await workflowIds(`${own} AND BatonWaitingFor = 'github'`)).toEqual([]);
  });

  await gs.stack.consent(alice, 'slack');
  await handle.result();
  await eventually(async () => expect(await workflowIds(`${own} AND BatonWaitingFor = 'slack'`)).toEqual([]));
  expect(await workflowIds("BatonUser = 'alice' AND BatonTool = 'triage_pull_request'")).toContain(handle.workflowId);
  expect(await workflowIds("BatonUser = 'bob' AND BatonTool = 'triage_pull_request'")).not.toContain(handle.workflowId);

  // Identifiers only: the user id and the tool's name, and nothing left of the pause.
  const { typedSearchAttributes } = await handle.describe();
  expect(typedSearchAttributes.get(BatonWaitingFor)).toBeUndefined();
  expect(Object.fromEntries(typedSearchAttributes.getAll().map(({ key, value }) => [key.name, value]))).toMatchObject({ BatonUser: 'alice', BatonTool: 'triage_pull_request' });
}, 120_000);
