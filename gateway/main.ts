/**
 * `baton gateway`: serves MCP, the consent pages and health checks until SIGINT/SIGTERM, then drains
 * the requests in flight and exits.
 */
import { tools } from '../workflows/catalog.ts';
import { createLogger } from './logger.ts';
import { serveGateway } from './serve.ts';

const log = createLogger();
try {
  const gateway = await serveGateway({ env: process.env, tools, log });
  console.log(`gateway ready: MCP at ${gateway.mcpUrl}`);
  const stop = async () => {
    console.log('gateway: stopping (draining requests in flight) ...');
    await gateway.close();
    console.log('gateway stopped');
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`gateway failed to start: ${(error as Error).message}`);
  process.exit(1);
}
