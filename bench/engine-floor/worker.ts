/**
 * The engine floor's worker: a child process, as Baton's worker is, running a plain `Worker.create` with
 * the floor's workflows (a prebuilt bundle, as Baton's worker loads one) and activities. Started by
 * bench/engine-floor/floor-worker-process.ts, which sends the sandbox URLs and credentials over the IPC
 * channel (never through Temporal). Stops on SIGTERM.
 *
 * Over the same channel it answers event-loop delay reads: a `monitorEventLoopDelay` histogram with the
 * resolution prom-client gives Baton's worker (10 ms), reset at every read, as prom-client resets its own
 * at every scrape.
 *
 * Environment: TEMPORAL_ADDRESS, FLOOR_TASK_QUEUE, FLOOR_WORKFLOW_BUNDLE.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createFloorActivities, type FloorAppConfig } from './activities.ts';
import { FLOOR_EVENT_LOOP_RESOLUTION_MS, type FromFloorWorker, type ToFloorWorker } from './ipc.ts';
import { floorWorkerTuning, tuningOptions } from './worker-options.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function send(message: FromFloorWorker): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  // As worker/main.ts installs the runtime: Temporal's own logs from WARN up.
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } } });
  const histogram = monitorEventLoopDelay({ resolution: FLOOR_EVENT_LOOP_RESOLUTION_MS });
  histogram.enable();

  const config = await new Promise<FloorAppConfig>((resolve) => {
    const onMessage = (message: ToFloorWorker) => {
      if (message.type !== 'config') return;
      process.off('message', onMessage);
      resolve(message.config);
    };
    process.on('message', onMessage);
  });
  process.on('message', (message: ToFloorWorker) => {
    if (message.type !== 'eventLoop') return;
    send({
      type: 'eventLoop',
      id: message.id,
      histogram: { count: histogram.count, p50Ns: histogram.percentile(50), p99Ns: histogram.percentile(99), maxNs: histogram.max, meanNs: histogram.mean },
    });
    histogram.reset();
  });

  const connection = await NativeConnection.connect({ address: required('TEMPORAL_ADDRESS') });
  try {
    const worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue: required('FLOOR_TASK_QUEUE'),
      workflowBundle: { codePath: required('FLOOR_WORKFLOW_BUNDLE') },
      activities: createFloorActivities(config),
      ...floorWorkerTuning,
    });
    const options = worker.options as unknown as Record<string, unknown>;
    const effectiveOptions = Object.fromEntries(tuningOptions.filter((name) => name in options && typeof options[name] !== 'object').map((name) => [name, options[name]]));
    for (const name of ['workflowTaskPollerBehavior', 'activityTaskPollerBehavior'] as const) {
      if (options[name] !== undefined) effectiveOptions[name] = JSON.stringify(options[name]);
    }
    send({ type: 'ready', effectiveOptions });
    console.log('floor worker ready');
    await worker.run();
  } finally {
    await connection.close();
  }
  // The IPC channel would keep the process alive.
  process.disconnect?.();
}

main().catch((error: unknown) => {
  console.error(`floor worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
