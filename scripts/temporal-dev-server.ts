import { TestWorkflowEnvironment } from '@temporalio/testing';
import { batonSearchAttributes } from '../workflows/search-attributes.ts';
import { provisionTemporalCli } from './provision-temporal.ts';

export interface DevServerOptions {
  /** Persist to this SQLite file (npm start); omit for an in-memory server (tests). */
  dbFilename?: string;
  port?: number;
  uiPort?: number;
}

/**
 * Starts a Temporal dev server with the provisioned CLI, with Baton's search attributes registered; the
 * server stops with `teardown()`.
 */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  // The SDK gives the server a fixed 5 s to come up; on a busy machine that is occasionally too short.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await createDevServer(options);
    } catch (error) {
      if (attempt === 3 || !String((error as Error).message).includes('did not start within')) throw error;
      console.error(`Temporal dev server was slow to start (attempt ${attempt} of 3); trying again.`);
    }
  }
}

/** Temporal's indexed value types of Baton's attributes (temporal.api.enums.v1.IndexedValueType). */
const indexedValueType: Record<string, number> = { KEYWORD: 2, KEYWORD_LIST: 7 };

/**
 * The CLI registers `--search-attribute`s only when it creates the namespace, so a database file kept from
 * before they existed (`.baton/temporal.db` of an earlier version) lacks them: add whichever are missing.
 */
async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const namespace = env.namespace ?? 'default';
  const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace });
  const missing = batonSearchAttributes.filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length === 0) return;
  await env.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType[key.type]!])),
  });
}

async function createDevServer(options: DevServerOptions): Promise<TestWorkflowEnvironment> {
  const env = await createLocalServer(options);
  try {
    await registerSearchAttributes(env);
  } catch (error) {
    await env.teardown();
    throw error;
  }
  return env;
}

function createLocalServer(options: DevServerOptions): Promise<TestWorkflowEnvironment> {
  const path = provisionTemporalCli();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: path ? { type: 'existing-path', path } : undefined,
      ip: '127.0.0.1',
      dbFilename: options.dbFilename,
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      log: { format: 'pretty', level: 'error' },
      searchAttributes: batonSearchAttributes,
      extraArgs: devServerTuning(options.dbFilename !== undefined),
    },
  });
}

/**
 * Dev-server flags that take the engine's own waiting out of every run (measured in the README's Benchmark
 * section). The dev server runs one history shard, and a shard reads its queues through token buckets of 20
 * reads/s (`history.transferProcessorMaxPollRPS`, `history.timerProcessorMaxPollRPS`, Temporal server 1.32):
 * every new workflow task, child start or completion and activity waited for the next token, ~50 ms a step.
 * Eager activities let a worker take the activity it just scheduled in the answer to its workflow-task
 * completion, without a trip through the task queue. A file-backed server (`npm start`) writes its SQLite
 * file in WAL mode without a sync at every commit (a crash loses the last moments of a development server's
 * history, never the file).
 */
export function devServerTuning(fileBacked: boolean): string[] {
  const dynamicConfig = {
    'history.transferProcessorMaxPollRPS': 10_000,
    'history.timerProcessorMaxPollRPS': 10_000,
    'history.visibilityProcessorMaxPollRPS': 10_000,
    'system.enableActivityEagerExecution': true,
    'system.enableEagerWorkflowStart': true,
  };
  const args = Object.entries(dynamicConfig).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
  if (fileBacked) args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  return args;
}
