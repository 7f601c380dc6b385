/**
 * `baton worker`: runs Baton's workflows and activities until SIGINT/SIGTERM, then stops polling,
 * lets the activities in hand finish (BATON_WORKER_SHUTDOWN_GRACE_SECONDS) and exits 0 — the Temporal
 * runtime handles the signals and drains the worker. Run as many as you like on the same task queue.
 *
 * If Temporal goes away (restart, network), the worker keeps running: its pollers retry until the
 * server is back and work resumes by itself; the worker says so in its log.
 */
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import type { AddressInfo } from 'node:net';
import { loadSettings } from '../core/config/settings.ts';
import { createMetrics, serveMetrics, workerMetricsPort } from '../core/metrics/metrics.ts';
import { startTracing } from '../core/telemetry/tracing.ts';
import { describeTemporalTarget } from '../core/temporal/settings.ts';
import { watchTemporalConnection, type ConnectionWatch } from '../core/temporal/watch.ts';
import { createBatonWorker } from './create-worker.ts';
import { storeServiceAccountsFromEnv } from './service-accounts.ts';

let watch: ConnectionWatch | undefined;

/** Temporal's own log lines, minus the SDK's "poll retried N times" warnings while the worker has already said Temporal is away. */
function printLog(entry: LogEntry): void {
  if (watch?.lost && /gRPC call \w+ retried \d+ times/.test(entry.message)) return;
  const meta = entry.meta && Object.keys(entry.meta).length ? ` ${JSON.stringify(entry.meta, (_key, value: unknown) => (value instanceof Error ? `${value.name}: ${value.message}` : value))}` : '';
  console.error(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}${meta}`);
}

async function main(): Promise<void> {
  // Temporal's own logs (bundling, state changes, the native core's) only from WARN up unless asked: Baton prints its own progress.
  const level = (process.env.BATON_LOG_LEVEL?.toUpperCase() ?? 'WARN') as LogLevel;
  Runtime.install({ logger: new DefaultLogger(level, printLog), telemetryOptions: { logging: { filter: { core: level, other: 'ERROR' }, forward: {} } } });
  const settings = loadSettings();
  console.log(`worker: connecting to Temporal at ${describeTemporalTarget(settings.temporal)} ...`);
  // Exports spans only when the OTel environment names an OTLP endpoint (see core/telemetry/tracing.ts).
  const tracing = startTracing({ serviceName: 'baton-worker' });
  const baton = await createBatonWorker(settings, { workflowBundlePath: process.env.BATON_WORKFLOW_BUNDLE, tracing });
  console.log(`worker: connected to Temporal at ${settings.temporal.address}, namespace ${settings.temporal.namespace}`);
  const metricsPort = workerMetricsPort(process.env);
  const metricsServer = metricsPort === undefined ? undefined : await serveMetrics(createMetrics('worker', baton.stores.audit), metricsPort, process.env.BATON_METRICS_TOKEN);
  if (metricsServer) console.log(`worker: metrics at http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`);
  const seeded = await storeServiceAccountsFromEnv(baton.stores.vault, settings.apps, process.env);
  if (seeded.length) console.log(`worker: stored service accounts for ${seeded.join(', ')}`);
  watch = watchTemporalConnection(baton.connection, {
    lost: (reason) => console.log(`worker: lost the connection to Temporal at ${settings.temporal.address} (${reason}); retrying, work resumes by itself when it is back`),
    back: (afterMs) => console.log(`worker: connected to Temporal at ${settings.temporal.address} again after ${(afterMs / 1000).toFixed(1)} s; polling resumed`),
  });
  console.log(`worker ready: polling task queue ${settings.temporal.taskQueue} (stop with SIGTERM: activities in hand finish first)`);
  process.once('SIGTERM', () => console.log('worker: stopping (finishing the activities in hand) ...'));
  process.once('SIGINT', () => console.log('worker: stopping (finishing the activities in hand) ...'));
  try {
    await baton.worker.run();
  } finally {
    watch.stop();
    // The stores too (the audit log closes its chain with a checkpoint), also when the worker stopped on an error.
    await baton.close().catch((error: unknown) => console.error(`worker: closing the database failed: ${error instanceof Error ? error.message : String(error)}`));
  }
  metricsServer?.close();
  await tracing.shutdown();
  console.log('worker stopped');
}

main().catch((error: unknown) => {
  console.error(`worker failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
