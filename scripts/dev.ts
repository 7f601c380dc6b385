/**
 * `baton dev` (and `npm start`, which runs this): the whole of Baton on loopback in one command — a
 * Temporal dev server (kept in .baton/temporal.db, UI on), the sandbox apps and identity provider, a
 * worker process and the gateway (MCP, consent pages) — with a line for each as it becomes ready.
 * Ctrl-C (or SIGTERM) stops everything gracefully: the gateway drains, the worker finishes its
 * activities, then the sandbox and Temporal stop. A second Ctrl-C stops at once.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { batonFile } from '../core/runtime-files.ts';
import { recordDevInstance } from '../core/config/dev-instance.ts';
import { startSandbox, type RunningSandbox } from '../sandbox/server.ts';
import { toolModulePaths } from '../core/catalogue/tool-modules.ts';
import { loadSettings } from '../core/config/settings.ts';
import { devEnvironment, devPorts, loadDevCredentials } from './dev-environment.ts';
import { ensurePortFree } from './free-port.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';

// The project `baton dev` runs for: the folder it is started in (Baton's own checkout for `npm start`, or a
// builder's project made by `baton init`), with its baton.yaml; state goes to its .baton/.
const project = process.cwd();
const home = join(project, '.baton');
const configFile = join(project, 'baton.yaml');
const workerMain = batonFile('../worker/main.ts', import.meta.url);
const gatewayMain = batonFile('../gateway/main.ts', import.meta.url);

/** Temporal connection variables of a real cluster, which must not follow `baton dev` to its own dev server. */
const clusterVariables = /^TEMPORAL_(NAMESPACE|API_KEY|TLS(_.*)?|PROFILE|CONFIG_FILE)$/;

const say = (line: string) => console.log(`baton: ${line}`);

// What has started, stopped again newest first (at Ctrl-C, or when a later part fails to start).
const started: { name: string; stop: () => Promise<unknown> }[] = [];
let stopping = false;
/** Set once tool files are watched: a worker that fails then waits for the next save instead of ending everything. */
let watchingTools = false;

async function stopAll(exitCode: number): Promise<never> {
  for (const part of started.reverse()) {
    try {
      await part.stop();
    } catch (error) {
      console.error(`baton: stopping ${part.name} failed: ${(error as Error).message}`);
      exitCode = 1;
    }
  }
  say(exitCode === 0 ? 'stopped.' : 'stopped (with errors, above).');
  process.exit(exitCode);
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    say(`${signal} again: stopping now.`);
    process.exit(1);
  }
  stopping = true;
  say('stopping (the gateway finishes the requests in flight, the worker its activities) ...');
  void stopAll(0).then(() => undefined);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

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

try {
  mkdirSync(home, { recursive: true });
  say('starting Temporal dev server ...');
  const temporal = await startTemporalDevServer({ dbFilename: join(home, 'temporal.db'), port: devPorts.temporal, uiPort: devPorts.temporalUi });
  started.push({ name: 'Temporal', stop: () => temporal.teardown() });
  say(`Temporal ready at 127.0.0.1:${devPorts.temporal} (state in .baton/temporal.db)`);

  const gatewayUrl = `http://127.0.0.1:${devPorts.gateway}`;
  const credentials = loadDevCredentials(join(home, 'dev-credentials.json'));
  const sandbox: RunningSandbox = await startSandbox({
    port: devPorts.sandbox,
    clients: { github: credentials.github, slack: credentials.slack },
    jiraServiceAccount: credentials.jira,
    statusApiKey: credentials.status.apiKey,
    notesListingClient: credentials.notesLister,
    crm: { clients: [credentials.crm] },
    helpdesk: { clients: [credentials.helpdesk] },
    idp: { clients: { baton: { ...credentials.idp, redirectUris: [`${gatewayUrl}/auth/callback`] } } },
  });
  started.push({ name: 'the sandbox', stop: () => sandbox.close() });
  say(`sandbox apps ready at ${sandbox.url} (GitHub, Slack, Jira, CRM, help desk; users alice/alice and bob/bob)`);
  say(`sandbox identity provider ready at ${sandbox.idpIssuer}`);
  say(`sandbox MCP servers ready: notes at ${sandbox.notesMcpUrl} (OAuth, its own authorization server), status at ${sandbox.statusMcpUrl} (API key)`);

  if (!existsSync(configFile)) throw new Error(`there is no baton.yaml in ${project}: run baton dev in a project folder (npx baton init <folder> makes one).`);
  const env: NodeJS.ProcessEnv = { BATON_CONFIG: configFile, ...devEnvironment(credentials, sandbox.url), BATON_HOME: home };
  const ignored = Object.keys(env).filter((name) => clusterVariables.test(name));
  for (const name of ignored) delete env[name];
  if (ignored.length) say(`ignoring ${ignored.join(', ')}: baton dev runs its own Temporal (use baton gateway and baton worker for a cluster)`);
  Object.assign(env, { TEMPORAL_TLS: 'false', TEMPORAL_NAMESPACE: 'default' });

  // The worker and the gateway run as processes of their own, restarted together when a tool file changes (a
  // fresh process loads the tool modules afresh; Node never forgets a module it imported). `current` runs now.
  const current: { worker?: RunningProcess; gateway?: RunningProcess } = {};
  started.push({ name: 'the worker', stop: async () => current.worker?.stop() });
  // Stopped first (it is pushed last): no new runs while the worker finishes its activities.
  started.push({ name: 'the gateway', stop: async () => current.gateway?.stop() });
  const gatewayEnv = { ...env, BATON_LOG_LEVEL: process.env.BATON_LOG_LEVEL ?? 'warn' };

  const startWorkerAndGateway = async () => {
    say('starting the worker ...');
    current.worker = startProcess('worker', workerMain, env, /worker ready/);
    say('starting the gateway ...');
    current.gateway = startProcess('gateway', gatewayMain, gatewayEnv, /gateway ready: MCP at (\S+)/);
    const [, mcpUrl] = await current.gateway.ready;
    const url = new URL(mcpUrl!).origin;
    say(`gateway ready at ${url} (your pages at /account, consent at /connect/…, metrics at /metrics, health at /healthz and /readyz)`);
    await current.worker.ready;
    return { url, mcpUrl: mcpUrl!, publicUrl: env.BATON_PUBLIC_URL ?? url };
  };
  const gateway = await startWorkerAndGateway();
  // .baton/instance.json tells `baton token` and the other commands run from this directory where this
  // instance is (its ports may not be the defaults); removed again when this process exits.
  const forgetInstance = recordDevInstance(home, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    publicUrl: gateway.publicUrl,
    mcpUrl: gateway.mcpUrl,
    gatewayPort: devPorts.gateway,
    sandboxUrl: sandbox.url,
    idpIssuer: sandbox.idpIssuer,
    temporalAddress: `127.0.0.1:${devPorts.temporal}`,
    temporalUiUrl: `http://127.0.0.1:${devPorts.temporalUi}`,
  });
  process.on('exit', forgetInstance);
  // Watching starts before `ready` is said, so a save right after it is never missed.
  watchTools(env, async (changed) => {
    say(`${changed} changed: restarting the worker and the gateway with the tools as they are now ...`);
    await current.gateway?.stop();
    await current.worker?.stop();
    try {
      await startWorkerAndGateway();
      say('reloaded.');
    } catch (error) {
      say(`reloading failed: ${(error as Error).message.replace(/\.$/, '')}. Fix the tool and save again.`);
    }
  });
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
} catch (error) {
  if (!stopping) {
    stopping = true;
    console.error(`baton: could not start: ${(error as Error).message}`);
    await stopAll(1);
  }
}

interface RunningProcess {
  /** Settles with the readiness line's match once the process says it is ready (rejects when it exits first). */
  ready: Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

/** A Baton process (worker or gateway) whose output is shown prefixed; `ready` waits for its readiness line. */
function startProcess(name: string, main: string, env: NodeJS.ProcessEnv, readyLine: RegExp): RunningProcess {
  const child: ChildProcessByStdio<null, Readable, null> = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let output = '';
  let stopped = false;
  const ready = new Promise<RegExpMatchArray>((resolveReady, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      process.stdout.write(text.replace(/^(?=.)/gm, 'baton: '));
      output += text;
      const match = readyLine.exec(output);
      if (match) resolveReady(match);
    });
    void exited.then(([code]) => reject(new Error(`the ${name} exited (code ${code}) before it was ready; its output is above.`)));
  });
  ready.catch(() => undefined);
  void exited.then(([code]) => {
    if (stopped || stopping || code === 0) return;
    if (watchingTools) return say(`the ${name} exited with code ${code}; fix what its output above says and save a tool file to start it again (or Ctrl-C).`);
    console.error(`baton: the ${name} exited with code ${code}; stopping.`);
    stopping = true;
    void stopAll(1);
  });
  return {
    ready,
    async stop() {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Watches the folders of the builder's tool modules (not Baton's own) and calls `reload` once per burst of
 * changes, never two reloads at once.
 */
function watchTools(env: NodeJS.ProcessEnv, reload: (changed: string) => Promise<void>): void {
  const settings = loadSettings(env);
  if (settings.config.toolsFrom === undefined) return;
  watchingTools = true;
  const folders = [...new Set(toolModulePaths(settings).map((path) => dirname(path)))].filter((folder) => !folder.includes(`${'/'}node_modules${'/'}`));
  let timer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> = Promise.resolve();
  const watchers: FSWatcher[] = folders.map((folder) =>
    watch(folder, { recursive: true }, (_event, file) => {
      if (!file || !/\.(ts|mts|js|mjs|json)$/.test(file)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        reloading = reloading.then(() => reload(relative(project, join(folder, file))));
      }, 150);
    }),
  );
  started.push({ name: 'the tool watcher', stop: async () => watchers.forEach((watcher) => watcher.close()) });
  say(`watching ${folders.map((folder) => relative(project, folder) || '.').join(', ')}: saving a tool file reloads the worker and the gateway`);
}
