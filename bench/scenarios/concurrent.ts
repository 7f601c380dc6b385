import type { Client } from '@modelcontextprotocol/client';
import { callOk, distinctDemoArguments } from '../clients.ts';
import { timed } from '../stats.ts';

export interface ConcurrentRun {
  samples: number[];
  wallMs: number;
  callsPerSecond: number;
}

/**
 * Every client calls the tool `callsEach` times back to back, all clients at once: closed-loop load
 * with as many calls in flight as there are clients. Throughput is completed calls over wall time.
 * Each call has its own spelling of the arguments, so each starts its own run (checked afterwards):
 * the same user's identical concurrent calls would otherwise be coalesced by the gateway.
 */
export async function measureConcurrent(clients: readonly Client[], tool: string, callsEach: number, progress: (line: string) => void): Promise<ConcurrentRun> {
  const samples: number[] = [];
  const runIds = new Set<string>();
  const total = clients.length * callsEach;
  const every = Math.max(1, Math.floor(total / 4));
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = 0; i < callsEach; i += 1) {
        const args = distinctDemoArguments(c * callsEach + i);
        samples.push(
          await timed(async () => {
            const { runId } = await callOk(client, tool, args);
            if (!runId) throw new Error(`${tool} answered without naming its run (_meta baton/runId)`);
            runIds.add(runId);
          }),
        );
        if (samples.length % every === 0) progress(`${tool} x${clients.length} concurrent: ${samples.length}/${total}`);
      }
    }),
  );
  const wallMs = performance.now() - started;
  if (runIds.size !== total) throw new Error(`${total} calls ran as ${runIds.size} runs: calls were coalesced, the figures would not be per run`);
  return { samples, wallMs, callsPerSecond: (samples.length / wallMs) * 1000 };
}
