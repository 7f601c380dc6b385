/**
 * `npm start`: the whole of Baton on loopback in one command — a Temporal dev server (kept in
 * .baton/temporal.db, UI on), the sandbox apps and identity provider, a worker process and the gateway
 * (MCP, consent pages) — with a line for each as it becomes ready. Ctrl-C stops everything.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../gateway/logger.ts';
import { serveGateway } from '../gateway/serve.ts';
import { startSandbox } from '../sandbox/server.ts';
import { tools } from '../workflows/catalog.ts';
import { devEnvironment, devPorts, loadDevCredentials } from './dev-environment.ts';
import { ensurePortFree } from './free-port.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const home = join(root, '.baton');

try {
  await ensurePortFree(devPorts.temporal, 'Temporal', 'BATON_TEMPORAL_PORT');
  await ensurePortFree(devPorts.temporalUi, 'Temporal UI', 'BATON_TEMPORAL_UI_PORT');
  await ensurePortFree(devPorts.gateway, 'the gateway', 'PORT');
  await ensurePortFree(devPorts.sandbox, 'sandbox apps', 'SANDBOX_PORT');
  await ensurePortFree(devPorts.workerMetrics, "the worker's metrics", 'BATON_WORKER_METRICS_PORT');
} catch (error) {
  console.error(`baton: ${(error as Error).message}`);
  process.exit(1);
}
console.log('baton: starting Temporal dev server ...');
const temporal = await startTemporalDevServer({ dbFilename: join(home, 'temporal.db'), port: devPorts.temporal, uiPort: devPorts.temporalUi });
console.log(`baton: Temporal ready at 127.0.0.1:${devPorts.temporal}`);

const gatewayUrl = `http://127.0.0.1:${devPorts.gateway}`;
const credentials = loadDevCredentials(join(home, 'dev-credentials.json'));
const sandbox = await startSandbox({
  port: devPorts.sandbox,
  clients: { github: credentials.github, slack: credentials.slack },
  jiraServiceAccount: credentials.jira,
  idp: { clients: { baton: { ...credentials.idp, redirectUris: [`${gatewayUrl}/auth/callback`] } } },
});
console.log(`baton: sandbox apps ready at ${sandbox.url} (GitHub, Slack, Jira; users alice/alice and bob/bob)`);
console.log(`baton: sandbox identity provider ready at ${sandbox.idpIssuer}`);

const env = { BATON_CONFIG: join(root, 'baton.yaml'), ...devEnvironment(credentials, sandbox.url), BATON_HOME: home };
const worker = spawn(process.execPath, [join(root, 'worker', 'main.ts')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
worker.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk.toString().replace(/^(?=.)/gm, 'baton: ')));
const workerExited = once(worker, 'exit');
const workerReady = new Promise<void>((resolve) => worker.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('worker ready') && resolve()));

const gateway = await serveGateway({ env, tools, log: createLogger({ level: process.env.BATON_LOG_LEVEL ?? 'warn' }) });
console.log(`baton: gateway ready at ${gateway.url} (your pages at /account, consent at /connect/…, metrics at /metrics, health at /healthz and /readyz)`);
await workerReady;
console.log(`
baton: ready.
  MCP endpoint:  ${gateway.mcpUrl}
  Temporal UI:   http://127.0.0.1:${devPorts.temporalUi}   (runs searchable by BatonUser, BatonTool, BatonWaitingFor)
  Your pages:    ${gateway.url}/account   (connections, runs, audit trail; sign in as alice/alice)
  Audit trail:   BATON_TOKEN=$(npx baton token alice) npx baton audit --since 1h
  Bearer token:  npx baton token alice     (or bob; password = user name, sandbox only)
  Client config: {"mcpServers": {"baton": {"type": "http", "url": "${gateway.mcpUrl}"}}}
                 (OAuth-capable clients sign in on their own; others add a header "Authorization: Bearer <token>")
  Try it:        call triage_pull_request with {"repo": "acme/widgets", "number": 1}, open the link it returns, sign in as alice/alice.
Press Ctrl-C to stop.`);

async function shutdown(): Promise<void> {
  console.log('baton: stopping ...');
  worker.kill('SIGTERM');
  await workerExited;
  await gateway.close();
  await sandbox.close();
  await temporal.teardown();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
void workerExited.then(([code]) => {
  if (code !== 0 && code !== null) {
    console.error(`baton: the worker exited with code ${code}; stopping.`);
    void shutdown();
  }
});
