import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { GatewayStack } from '../../test/support/gateway-stack.ts';
import { timed } from '../stats.ts';
import type { ConcurrentRun } from './concurrent.ts';

/** Every path measured for one upstream tool call, each `calls` times one at a time and then by `callers` at once. */
export interface UpstreamFigures {
  viaBaton: { sequential: number[]; concurrent: ConcurrentRun };
  direct: { sequential: number[]; concurrent: ConcurrentRun };
  /** A direct call opening its own session each time (initialize, then the call): what reusing a session saves. */
  directFreshSession: number[];
}

const TOOL = 'service_status';

/**
 * (j) `status__service_status` through Baton (a run: gateway, Temporal, worker, the upstream call with
 * the organisation's key) against the same tool called directly on the sandbox's status MCP server with
 * the same key, over one reused session, and directly with a new session per call.
 */
export async function measureUpstream(gs: GatewayStack, batonClients: readonly Client[], calls: number, progress: (line: string) => void): Promise<UpstreamFigures> {
  const { statusMcpUrl, statusApiKey } = gs.stack.sandbox;
  const connectDirect = async () => {
    const client = new Client({ name: 'bench-direct', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(statusMcpUrl), { requestInit: { headers: { 'X-Api-Key': statusApiKey } } }));
    return client;
  };
  const viaBaton = (client: Client, i: number) => callOrThrow(client, `status__${TOOL}`, i);
  const directs = await Promise.all(batonClients.map(() => connectDirect()));
  try {
    progress(`(j) ${TOOL} through Baton, sequential, ${calls} calls`);
    const batonSequential = await sequential(calls, (i) => viaBaton(batonClients[i % batonClients.length]!, i));
    progress(`(j) ${TOOL} directly (one session), sequential, ${calls} calls`);
    const directSequential = await sequential(calls, (i) => callOrThrow(directs[0]!, TOOL, i));
    progress(`(j) ${TOOL} directly, a new session per call, ${calls} calls`);
    const fresh = await sequential(calls, async (i) => {
      const client = await connectDirect();
      try {
        await callOrThrow(client, TOOL, i);
      } finally {
        await client.close();
      }
    });
    progress(`(j) ${TOOL} through Baton, ${batonClients.length} callers`);
    const batonConcurrent = await concurrent(batonClients, (client, i) => viaBaton(client, i));
    progress(`(j) ${TOOL} directly, ${directs.length} callers`);
    const directConcurrent = await concurrent(directs, (client, i) => callOrThrow(client, TOOL, i));
    return { viaBaton: { sequential: batonSequential, concurrent: batonConcurrent }, direct: { sequential: directSequential, concurrent: directConcurrent }, directFreshSession: fresh };
  } finally {
    await Promise.all(directs.map((client) => client.close()));
  }
}

/** Distinct arguments per call, so the gateway never hands one run's result to another call. */
async function callOrThrow(client: Client, tool: string, i: number): Promise<void> {
  const result = await client.callTool({ name: tool, arguments: { service: `service-${i}` } });
  if (result.isError || !(result.structuredContent as { state?: unknown } | undefined)?.state) throw new Error(`${tool} did not answer: ${JSON.stringify(result)}`);
}

async function sequential(calls: number, call: (i: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < calls; i += 1) samples.push(await timed(() => call(i)));
  return samples;
}

async function concurrent(clients: readonly Client[], call: (client: Client, i: number) => Promise<void>, callsEach = 5): Promise<ConcurrentRun> {
  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = 0; i < callsEach; i += 1) samples.push(await timed(() => call(client, 1000 + c * callsEach + i)));
    }),
  );
  const wallMs = performance.now() - started;
  return { samples, wallMs, callsPerSecond: (samples.length / wallMs) * 1000 };
}
