/**
 * `npm run bench:phases [tool] [calls]`: where one tool's sequential latency goes, read from the runs'
 * Temporal histories. Starts the bench's stack, connects alice and bob, makes `calls` unmeasured calls to
 * warm up, then `calls` measured ones (default `read_pull_request`, 150), and prints the client-side latency
 * and, over the last 40 runs, the server's time from start to close, each workflow task (started →
 * completed) and each activity (started → completed). For profiling the worker too, run it with
 * `BATON_WORKER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof"`.
 */
import { BenchClients, callOk } from './clients.ts';
import { startBenchEnvironment } from './environment.ts';
import { warmUp } from './scenarios/warm-up.ts';
import { summarize } from './stats.ts';

const tool = process.argv[2] ?? 'read_pull_request';
const calls = Number(process.argv[3] ?? 150);
const inspected = 40;
const progress = (line: string) => console.log(`phases: ${line}`);

const env = await startBenchEnvironment(progress);
try {
  const clients = new BenchClients(env.gs);
  const pair = [...(await warmUp(env.gs, clients, progress)).values()];
  for (let i = 0; i < calls; i += 1) await callOk(pair[i % 2]!, tool);
  progress(`${calls} unmeasured ${tool} calls done; measuring ${calls}`);
  const samples: number[] = [];
  const runIds: string[] = [];
  for (let i = 0; i < calls; i += 1) {
    const started = performance.now();
    const { runId } = await callOk(pair[i % 2]!, tool);
    samples.push(performance.now() - started);
    if (runId) runIds.push(runId);
  }
  const phases = new Map<string, number[]>([['client: tools/call', samples]]);
  const add = (phase: string, ms: number) => phases.set(phase, [...(phases.get(phase) ?? []), ms]);
  for (const runId of runIds.slice(-inspected)) {
    const history = await env.gs.stack.client.workflow.getHandle(runId).fetchHistory();
    const events = (history.events ?? []).map((event) => ({
      at: Number(String(event.eventTime?.seconds ?? 0)) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6,
      kind: Object.keys(event).find((key) => key.endsWith('EventAttributes')) ?? '',
    }));
    add('server: start → close', events.at(-1)!.at - events[0]!.at);
    let taskStarted = 0;
    let tasks = 0;
    let activities = 0;
    for (const { at, kind } of events) {
      if (kind === 'workflowTaskStartedEventAttributes' || kind === 'activityTaskStartedEventAttributes') taskStarted = at;
      if (kind === 'workflowTaskCompletedEventAttributes') add(`workflow task ${(tasks += 1)}`, at - taskStarted);
      if (kind === 'activityTaskCompletedEventAttributes') add(`activity ${(activities += 1)}`, at - taskStarted);
    }
  }
  console.log(`\n${tool}: ${calls} sequential calls; phases from the histories of the last ${inspected} runs (ms)`);
  console.log(`${'phase'.padEnd(24)} ${'p50'.padStart(7)} ${'mean'.padStart(7)} ${'p99'.padStart(7)}`);
  for (const [phase, values] of phases) {
    const { median, mean, p99 } = summarize(values);
    console.log(`${phase.padEnd(24)} ${median.toFixed(1).padStart(7)} ${mean.toFixed(1).padStart(7)} ${p99.toFixed(1).padStart(7)}`);
  }
} finally {
  await env.close();
}
