/**
 * `npm start`: the whole of Baton on loopback in one command — a Temporal dev server (kept in
 * .baton/temporal.db), the sandbox apps, a worker process and the consent pages — with a line for
 * each as it becomes ready. Ctrl-C stops everything.
 */
import express from 'express';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings } from '../core/config/settings.ts';
import { openStores } from '../core/stores.ts';
import { ConnectFlow } from '../gateway/consent/connect-flow.ts';
import { consentRoutes } from '../gateway/http/consent-routes.ts';
import { connectTemporal } from '../gateway/temporal/client.ts';
import { startSandbox } from '../sandbox/server.ts';
import { devEnvironment, devPorts, loadDevCredentials } from './dev-environment.ts';
import { ensurePortFree } from './free-port.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const home = join(root, '.baton');

try {
  await ensurePortFree(devPorts.temporal, 'Temporal', 'BATON_TEMPORAL_PORT');
  await ensurePortFree(devPorts.temporalUi, 'Temporal UI', 'BATON_TEMPORAL_UI_PORT');
  await ensurePortFree(devPorts.gateway, 'consent pages', 'BATON_PORT');
  await ensurePortFree(devPorts.sandbox, 'sandbox apps', 'SANDBOX_PORT');
} catch (error) {
  console.error(`baton: ${(error as Error).message}`);
  process.exit(1);
}
console.log('baton: starting Temporal dev server ...');
const temporal = await startTemporalDevServer({ dbFilename: join(home, 'temporal.db'), port: devPorts.temporal, uiPort: devPorts.temporalUi });
console.log(`baton: Temporal ready at 127.0.0.1:${devPorts.temporal} (UI http://127.0.0.1:${devPorts.temporalUi})`);

const credentials = loadDevCredentials(join(home, 'dev-credentials.json'));
const sandbox = await startSandbox({ port: devPorts.sandbox, clients: { github: credentials.github, slack: credentials.slack }, jiraServiceAccount: credentials.jira });
console.log(`baton: sandbox apps ready at ${sandbox.url} (GitHub, Slack, Jira; users alice/alice and bob/bob)`);

const env = { ...devEnvironment(credentials, sandbox.url), BATON_HOME: home };
const worker = spawn(process.execPath, [join(root, 'worker', 'main.ts')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
worker.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk.toString().replace(/^(?=.)/gm, 'baton: ')));
const workerExited = once(worker, 'exit');
const workerReady = new Promise<void>((resolve) => worker.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('worker ready') && resolve()));

const settings = loadSettings(env);
const stores = openStores(settings, env);
const client = await connectTemporal(settings);
const app = express();
app.use(consentRoutes(new ConnectFlow(settings, stores, client)));
const server = app.listen(devPorts.gateway, '127.0.0.1');
await once(server, 'listening');
console.log(`baton: consent pages ready at ${settings.publicUrl} (/connect/:id, /oauth/callback)`);
await workerReady;
console.log('baton: ready. Try it: npm run demo -- alice acme/widgets 1');
console.log('baton: (the demo prints a consent link whenever the run pauses; open it, sign in as alice/alice, approve)');

async function shutdown(): Promise<void> {
  console.log('baton: stopping ...');
  worker.kill('SIGTERM');
  await workerExited;
  server.close();
  await client.connection.close();
  stores.db.close();
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
