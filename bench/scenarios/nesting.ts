import type { Client } from '@modelcontextprotocol/client';
import { callOk, demoArguments } from '../clients.ts';
import type { EngineFloor } from '../engine-floor/engine-floor.ts';
import type { FloorUser } from '../engine-floor/workflows.ts';
import { timed } from '../stats.ts';
import { demoUsers } from './warm-up.ts';

export interface NestingSamples {
  triage: number[];
  deeper: number[];
}

/**
 * The cost of one more nesting level: the triage shape and the same shape one level deeper, called one
 * at a time and interleaved (the order alternating every pair), so both see the same machine over the
 * same stretch of time. For Baton: triage_pull_request and bench_triage_deeper through MCP, alternating
 * alice and bob. For the floor: floorTriage and floorTriageDeeper.
 */
export async function measureNesting(run: (which: 'triage' | 'deeper', i: number) => Promise<unknown>, pairs: number, label: string, progress: (line: string) => void): Promise<NestingSamples> {
  const samples: NestingSamples = { triage: [], deeper: [] };
  const every = Math.max(1, Math.floor(pairs / 4));
  for (let i = 0; i < pairs; i += 1) {
    const order = i % 2 === 0 ? (['triage', 'deeper'] as const) : (['deeper', 'triage'] as const);
    for (const which of order) samples[which].push(await timed(() => run(which, i)));
    if ((i + 1) % every === 0 || i + 1 === pairs) progress(`${label} nesting: ${i + 1}/${pairs} pairs`);
  }
  return samples;
}

export const batonNesting = (clients: readonly Client[]) => (which: 'triage' | 'deeper', i: number) =>
  callOk(clients[i % clients.length]!, which === 'triage' ? 'triage_pull_request' : 'bench_triage_deeper');

export const floorNesting = (floor: EngineFloor) => (which: 'triage' | 'deeper', i: number) =>
  floor.run(which === 'triage' ? 'floorTriage' : 'floorTriageDeeper', { user: demoUsers[i % demoUsers.length] as FloorUser, ...demoArguments });
