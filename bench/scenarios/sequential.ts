import type { Client } from '@modelcontextprotocol/client';
import { callOk } from '../clients.ts';
import { timed } from '../stats.ts';

/**
 * One call at a time through the whole stack, alternating between the users' clients so each user's
 * own credentials are used in turn. Each sample is one tools/call, first byte sent to result read.
 */
export async function measureSequential(clients: readonly Client[], tool: string, calls: number, progress: (line: string) => void): Promise<number[]> {
  const samples: number[] = [];
  const every = Math.max(1, Math.floor(calls / 4));
  for (let i = 0; i < calls; i += 1) {
    const client = clients[i % clients.length]!;
    samples.push(await timed(() => callOk(client, tool)));
    if ((i + 1) % every === 0 || i + 1 === calls) progress(`${tool} sequential: ${i + 1}/${calls}`);
  }
  return samples;
}
