import type { GatewayStack } from '../../test/support/gateway-stack.ts';
import { demoArguments, distinctDemoArguments } from '../clients.ts';
import type { FloorAppConfig } from '../engine-floor/activities.ts';
import type { EngineFloor, FloorWorkflow } from '../engine-floor/engine-floor.ts';
import type { FloorUser } from '../engine-floor/workflows.ts';
import { timed } from '../stats.ts';
import type { ConcurrentRun } from './concurrent.ts';
import { demoCredentials } from './floor.ts';
import { demoUsers } from './warm-up.ts';

/** The sandbox URLs and the very credentials Baton's worker uses (as the (e) floor reads them), for the floor's worker. */
export async function floorAppConfig(gs: GatewayStack): Promise<FloorAppConfig> {
  const { userHeaders, jiraHeaders } = await demoCredentials(gs);
  const baseUrl = (app: string) => {
    const url = gs.stack.settings.apps.get(app)?.endpoints.apiBaseUrl;
    if (!url) throw new Error(`no ${app} app in the stack's settings`);
    return url;
  };
  const users = Object.fromEntries(demoUsers.map((user) => [user, { github: userHeaders.get(user)!.github.authorization!, slack: userHeaders.get(user)!.slack.authorization! }]));
  return {
    baseUrls: { github: baseUrl('github'), slack: baseUrl('slack'), jira: baseUrl('jira') },
    authorization: { users: users as FloorAppConfig['authorization']['users'], jira: jiraHeaders.authorization! },
  };
}

const userAt = (i: number) => demoUsers[i % demoUsers.length] as FloorUser;

/** Unmeasured runs of every floor workflow for both users, as the warm-up does for Baton's tools. */
export async function warmUpFloor(floor: EngineFloor, rounds: number, progress: (line: string) => void): Promise<void> {
  for (let i = 0; i < rounds * demoUsers.length; i += 1) {
    for (const workflow of ['floorRead', 'floorTriage', 'floorTriageDeeper'] as const) await floor.run(workflow, { user: userAt(i), ...demoArguments });
  }
  progress(`engine floor warm-up done (${rounds * demoUsers.length * 3} unmeasured runs)`);
}

/** One run at a time, alternating users, as (a) and (b) call Baton's tools. */
export async function measureFloorSequential(floor: EngineFloor, workflow: FloorWorkflow, runs: number, progress: (line: string) => void): Promise<number[]> {
  const samples: number[] = [];
  const every = Math.max(1, Math.floor(runs / 4));
  for (let i = 0; i < runs; i += 1) {
    samples.push(await timed(() => floor.run(workflow, { user: userAt(i), ...demoArguments })));
    if ((i + 1) % every === 0 || i + 1 === runs) progress(`engine floor ${workflow} sequential: ${i + 1}/${runs}`);
  }
  return samples;
}

/** `callers` closed loops of `runsEach` runs each, half the callers alice and half bob, as (c) loads Baton. */
export async function measureFloorConcurrent(floor: EngineFloor, workflow: FloorWorkflow, callers: number, runsEach: number, progress: (line: string) => void): Promise<ConcurrentRun> {
  const samples: number[] = [];
  const total = callers * runsEach;
  const every = Math.max(1, Math.floor(total / 4));
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; i < runsEach; i += 1) {
        samples.push(await timed(() => floor.run(workflow, { user: userAt(c), ...distinctDemoArguments(c * runsEach + i) })));
        if (samples.length % every === 0) progress(`engine floor ${workflow} x${callers} concurrent: ${samples.length}/${total}`);
      }
    }),
  );
  const wallMs = performance.now() - started;
  return { samples, wallMs, callsPerSecond: (samples.length / wallMs) * 1000 };
}
