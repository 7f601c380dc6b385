import type { Client } from '@modelcontextprotocol/client';
import { callOk } from '../clients.ts';
import { timed } from '../stats.ts';

export interface ConcurrentRun {
  samples: number[];
  wallMs: number;
  callsPerSecond: number;
}

/**
 * Every client calls the tool `callsEach` times back to back, all clients at once: closed-loop load
 * with as many calls in flight as there are clients. Throughput is completed calls over wall time.
 */
export async function measureConcurrent(clients: readonly Client[], tool: string, callsEach: number, progress: (line: string) => void): Promise<ConcurrentRun> {
  const samples: number[] = [];
  const total = clients.length * callsEach;
  const every = Math.max(1, Math.floor(total / 4));
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      for (let i = 0; i < callsEach; i += 1) {
        samples.push(await timed(() => callOk(client, tool)));
        if (samples.length % every === 0) progress(`${tool} x${clients.length} concurrent: ${samples.length}/${total}`);
      }
    }),
  );
  const wallMs = performance.now() - started;
  return { samples, wallMs, callsPerSecond: (samples.length / wallMs) * 1000 };
}
