/**
 * `baton worker`: runs Baton's workflows and activities until SIGINT/SIGTERM, then finishes the
 * tasks in hand and exits (the Temporal runtime handles the signals and drains the worker).
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { AddressInfo } from 'node:net';
import { loadSettings } from '../core/config/settings.ts';
import { createMetrics, serveMetrics, workerMetricsPort } from '../core/metrics/metrics.ts';
import { startTracing } from '../core/telemetry/tracing.ts';
import { createBatonWorker } from './create-worker.ts';
import { storeServiceAccountsFromEnv } from './service-accounts.ts';

async function main(): Promise<void> {
  // Temporal's own logs (bundling, state changes) only from WARN up unless asked: Baton prints its own progress.
  Runtime.install({ logger: new DefaultLogger((process.env.BATON_LOG_LEVEL?.toUpperCase() ?? 'WARN') as LogLevel) });
  const settings = loadSettings();
  console.log(`worker: connecting to Temporal at ${settings.temporal.address} (namespace ${settings.temporal.namespace}, task queue ${settings.temporal.taskQueue})`);
  // Exports spans only when the OTel environment names an OTLP endpoint (see core/telemetry/tracing.ts).
  const tracing = startTracing({ serviceName: 'baton-worker' });
  const baton = await createBatonWorker(settings, { workflowBundlePath: process.env.BATON_WORKFLOW_BUNDLE, tracing });
  const metricsPort = workerMetricsPort(process.env);
  const metricsServer = metricsPort === undefined ? undefined : await serveMetrics(createMetrics('worker', baton.stores.audit), metricsPort, process.env.BATON_METRICS_TOKEN);
  if (metricsServer) console.log(`worker: metrics at http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`);
  const seeded = storeServiceAccountsFromEnv(baton.stores.vault, process.env);
  if (seeded.length) console.log(`worker: stored service accounts for ${seeded.join(', ')}`);
  console.log('worker ready');
  await baton.worker.run();
  await baton.close();
  metricsServer?.close();
  await tracing.shutdown();
  console.log('worker stopped');
}

main().catch((error: unknown) => {
  console.error(`worker failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
