import type { Client, WorkflowHandle } from '@temporalio/client';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type BatonSettings } from '../../core/config/settings.ts';
import type { IdentityContext } from '../../core/identity/context.ts';
import { generateIdentityKey, toPublicJwk } from '../../core/identity/keys.ts';
import { createIdentitySigner, type IdentitySigner } from '../../core/identity/signer.ts';
import { createWorkflowMessageSigner } from '../../core/identity/workflow-messages.ts';
import { openStores, type BatonStores } from '../../core/stores.ts';
import { ConnectFlow, type CallbackResult } from '../../gateway/consent/connect-flow.ts';
import { connectTemporal } from '../../gateway/temporal/client.ts';
import { closedRunOutcome } from '../../gateway/temporal/await-outcome.ts';
import { startTool } from '../../gateway/temporal/start-tool.ts';
import { approveConsentOverHttp } from '../../sandbox/browserless-consent.ts';
import { startSandbox, type IdpOptions, type RunningSandbox } from '../../sandbox/server.ts';
import type { JWK } from 'jose';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import { awaitOutcomeUpdate, type RunOptions, type RunStatus } from '../../workflows/protocol.ts';
import { passwordOf } from './identities.ts';
import { WorkerProcess } from './worker-process.ts';

const secret = () => randomBytes(24).toString('base64url');

/** A stack's configuration file, made once the sandbox runs, with environment variables its `env:` references read. */
export type ConfigSetup = (sandbox: RunningSandbox) => { yaml: string; env?: Record<string, string>; files?: Record<string, string> };

/**
 * Everything one suite needs, all real: the sandbox apps over HTTP, a worker process on its own task
 * queue against the suite-wide Temporal dev server, the database and vault it shares with the test,
 * and a Temporal client that starts tools as a signed user.
 */
export class Stack {
  readonly sandbox: RunningSandbox;
  readonly settings: BatonSettings;
  readonly stores: BatonStores;
  readonly client: Client;
  readonly connectFlow: ConnectFlow;
  readonly sign: IdentitySigner;
  readonly workerEnv: NodeJS.ProcessEnv;
  /** The identity-signing key a gateway of this stack signs with (the worker has its public half). */
  readonly identityKey: JWK;
  readonly #home: string;
  #worker: WorkerProcess;

  /** The worker process's own /metrics, from the address it printed at start. */
  get workerMetricsUrl(): string {
    // The last line that says so: a restarted worker picks a new port.
    const printed = [...this.#worker.output.matchAll(/worker: metrics at (\S+)/g)].at(-1);
    if (!printed) throw new Error(`the worker did not say where its metrics are:\n${this.#worker.output}`);
    return printed[1]!;
  }

  private constructor(fields: {
    sandbox: RunningSandbox;
    settings: BatonSettings;
    stores: BatonStores;
    client: Client;
    sign: IdentitySigner;
    workerEnv: NodeJS.ProcessEnv;
    home: string;
    identityKey: JWK;
  }) {
    this.identityKey = fields.identityKey;
    this.sandbox = fields.sandbox;
    this.settings = fields.settings;
    this.stores = fields.stores;
    this.client = fields.client;
    this.sign = fields.sign;
    this.workerEnv = fields.workerEnv;
    this.#home = fields.home;
    this.connectFlow = new ConnectFlow(fields.settings, fields.stores, fields.client);
    this.#worker = new WorkerProcess(fields.workerEnv);
  }

  /**
   * `config` (optional) makes the stack's `baton.yaml` from the running sandbox (whose secrets it may
   * pass on as environment variables for `env:` references); worker and gateway both read it.
   * `temporalAddress` points the stack at a Temporal server of the suite's own instead of `npm test`'s.
   */
  static async start({
    accessTokenTtlSeconds,
    idp,
    publicUrl = 'http://127.0.0.1:7999',
    config,
    temporalAddress,
  }: { accessTokenTtlSeconds?: number; idp?: IdpOptions; publicUrl?: string; config?: ConfigSetup; temporalAddress?: string } = {}): Promise<Stack> {
    const clients = { github: { clientId: 'baton-github', clientSecret: secret() }, slack: { clientId: 'baton-slack', clientSecret: secret() } };
    const jiraServiceAccount = { email: 'svc-baton@acme.example', apiToken: secret() };
    const sandbox = await startSandbox({ clients, jiraServiceAccount, accessTokenTtlSeconds, idp });
    const home = mkdtempSync(join(tmpdir(), 'baton-test-'));
    const identityKey = await generateIdentityKey();
    const workerEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      // Node options for the worker process only, e.g. `--cpu-prof` (bench/phases.ts).
      ...(process.env.BATON_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BATON_WORKER_NODE_OPTIONS } : {}),
      TEMPORAL_ADDRESS: temporalAddress ?? requiredEnv('TEMPORAL_ADDRESS'),
      BATON_WORKFLOW_BUNDLE: requiredEnv('BATON_TEST_WORKFLOW_BUNDLE'),
      BATON_TASK_QUEUE: `test-${randomUUID()}`,
      BATON_HOME: home,
      BATON_VAULT_KEY: randomBytes(32).toString('base64'),
      BATON_IDENTITY_JWKS: JSON.stringify({ keys: [toPublicJwk(identityKey)] }),
      BATON_SANDBOX_URL: sandbox.url,
      BATON_PUBLIC_URL: publicUrl,
      BATON_GITHUB_CLIENT_ID: clients.github.clientId,
      BATON_GITHUB_CLIENT_SECRET: clients.github.clientSecret,
      BATON_SLACK_CLIENT_ID: clients.slack.clientId,
      BATON_SLACK_CLIENT_SECRET: clients.slack.clientSecret,
      BATON_JIRA_SERVICE_USERNAME: jiraServiceAccount.email,
      BATON_JIRA_SERVICE_PASSWORD: jiraServiceAccount.apiToken,
      NODE_NO_WARNINGS: '1',
      // The worker's own /metrics on a port it picks (so it cannot race the gateway's), for suites that read what it counted.
      BATON_WORKER_METRICS_PORT: '0',
    };
    if (config) {
      const { yaml, env = {}, files = {} } = config(sandbox);
      workerEnv.BATON_CONFIG = join(home, 'baton.yaml');
      writeFileSync(workerEnv.BATON_CONFIG, yaml);
      for (const [name, content] of Object.entries(files)) writeFileSync(join(home, name), content, { mode: 0o600 });
      Object.assign(workerEnv, env);
    }
    const settings = loadSettings(workerEnv);
    const stores = await openStores(settings, workerEnv);
    const client = await connectTemporal(settings, { signMessages: await createWorkflowMessageSigner(identityKey) });
    const stack = new Stack({ sandbox, settings, stores, client, sign: await createIdentitySigner(identityKey), workerEnv, home, identityKey });
    await stack.#worker.start();
    return stack;
  }

  /** Starts a tool as `user`, exactly as the gateway will. */
  run(user: IdentityContext, tool: CallableDefinition, input: unknown, options: RunOptions = {}): Promise<WorkflowHandle> {
    return startTool(this.client, this.sign, { tool, input, identity: user, taskQueue: this.settings.temporal.taskQueue, options });
  }

  /** Waits (event-driven, an update) until the run completes, fails, or pauses on a consent not in `seen`. */
  async awaitOutcome(handle: WorkflowHandle, seen: string[] = []): Promise<RunStatus> {
    try {
      return await handle.executeUpdate(awaitOutcomeUpdate, { args: [{ seenConsentIds: seen }] });
    } catch (error) {
      // The run may close while the update is in flight (it failed or finished): read its result, as the gateway does.
      return closedRunOutcome(this.client, handle.workflowId, error);
    }
  }

  /** The user goes through the app's real sign-in and consent pages over HTTP; Baton handles the redirect back. */
  async consent(user: IdentityContext, app: string, decision: 'approve' | 'deny' = 'approve'): Promise<CallbackResult> {
    const sessionBinding = `test-session-${user.subject}`;
    const authorizeUrl = await this.connectFlow.authorizeUrl({ tenant: user.tenant, subject: user.subject, app }, sessionBinding);
    const redirect = await approveConsentOverHttp(authorizeUrl.toString(), passwordOf(user), decision);
    return this.connectFlow.handleCallback(app, redirect, sessionBinding);
  }

  async sandboxGet<T>(path: string): Promise<T> {
    const response = await fetch(`${this.sandbox.url}${path}`);
    if (!response.ok) throw new Error(`sandbox ${path}: ${response.status}`);
    return (await response.json()) as T;
  }

  async sandboxPost(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${this.sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`sandbox ${path}: ${response.status} ${await response.text()}`);
  }

  get worker(): WorkerProcess {
    return this.#worker;
  }

  /** Replaces the worker with a fresh process (after a kill, say). */
  async startNewWorker(): Promise<void> {
    this.#worker = new WorkerProcess(this.workerEnv);
    await this.#worker.start();
  }

  async close(): Promise<void> {
    await this.#worker.stop();
    await this.client.connection.close();
    await this.stores.close();
    await this.sandbox.close();
    rmSync(this.#home, { recursive: true, force: true });
  }
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\`, which starts Temporal and bundles the workflows.`);
  return value;
}
