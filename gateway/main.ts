/**
 * `baton gateway`: serves MCP, the consent pages and health checks until SIGINT/SIGTERM, then stops
 * taking connections, answers tool calls waiting on runs with a handle, lets the requests in flight
 * finish and exits 0. Gateways share nothing but the database and Temporal: run as many as you like.
 */
import { describeTemporalTarget } from '../core/temporal/settings.ts';
import { loadSettings } from '../core/config/settings.ts';
import { watchTemporalConnection } from '../core/temporal/watch.ts';
import { loadTools, toolModulePaths } from '../core/catalogue/tool-modules.ts';
import { createLogger } from './logger.ts';
import { serveGateway } from './serve.ts';

const log = createLogger();
try {
  const settings = loadSettings(process.env);
  // The same tool modules the worker bundles (toolsFrom in baton.yaml), so tools/list matches what runs.
  const tools = await loadTools(toolModulePaths(settings));
  console.log(`gateway: connecting to Temporal at ${describeTemporalTarget(settings.temporal)} ...`);
  const gateway = await serveGateway({ env: process.env, tools, log });
  const { address } = gateway.settings.temporal;
  console.log(`gateway: connected to Temporal at ${address}, namespace ${gateway.settings.temporal.namespace}`);
  const watch = watchTemporalConnection(gateway.temporalConnection, {
    lost: (reason) => console.log(`gateway: lost the connection to Temporal at ${address} (${reason}); tool calls fail until it is back`),
    back: (afterMs) => console.log(`gateway: connected to Temporal at ${address} again after ${(afterMs / 1000).toFixed(1)} s`),
  });
  console.log(`gateway ready: MCP at ${gateway.mcpUrl} (health at ${gateway.url}/healthz and /readyz)`);
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log(`gateway: ${signal} again: stopping now, without waiting for the requests in flight`);
      process.exit(1);
    }
    stopping = true;
    console.log(`gateway: ${signal}: stopping (no new connections; finishing the requests in flight) ...`);
    watch.stop();
    try {
      await gateway.close();
    } catch (error) {
      console.error(`gateway: error while stopping: ${(error as Error).message}`);
      process.exit(1);
    }
    console.log('gateway stopped');
    process.exit(0);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stop(signal).catch((error: unknown) => {
      console.error(`gateway: error while stopping: ${(error as Error).message}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
} catch (error) {
  console.error(`gateway failed to start: ${(error as Error).message}`);
  process.exit(1);
}
