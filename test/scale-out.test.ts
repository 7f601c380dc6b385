/**
 * Issue 6, must-show 1: scale-out on one machine. One Temporal dev server, one PostgreSQL database, two
 * gateway processes and two worker processes on the same task queue. Both gateways sit behind one public
 * URL (as behind a load balancer), share the request-state key, the identity-signing key and the IdP
 * client; the test plays the load balancer by choosing which gateway's port each request goes to.
 */
import type { Client } from '@modelcontextprotocol/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import type { IdentityContext } from '../core/identity/context.ts';
import { approveConsentOverHttp, CookieKeepingClient } from '../sandbox/browserless-consent.ts';
import { signInOverHttp } from '../sandbox/idp/headless-login.ts';
import type { LoggedRequest } from '../sandbox/request-log.ts';
import { cliClient } from '../sandbox/server.ts';
import { BatonProcess } from './support/gateway-process.ts';
import { freePort } from '../scripts/free-port.ts';
import { alice } from './support/identities.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { Stack } from './support/stack.ts';

const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'] as const;
type User = (typeof users)[number];
const identityOf = (user: User): IdentityContext => ({ ...alice, subject: user, email: `${user}@example.com`, inboundTokenRef: `vault:inbound/${user}/1` });

const openToEveryone = `servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
`;

const workerMain = fileURLToPath(new URL('../worker/main.ts', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A worker process whose pid the test knows, so it can tell which worker holds an activity. */
class Worker {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<void>;
  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [workerMain], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker not ready in 60 s:\n${this.output}`)), 60_000);
      const collect = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('worker ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.child.stdout?.on('data', collect);
      this.child.stderr?.on('data', collect);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`worker exited before it was ready:\n${this.output}`));
      });
    });
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    await this.exited;
  }
}

let database: TestDatabase;
let stack: Stack;
let workers: Worker[] = [];
let gateways: BatonProcess[] = [];
/** The gateways' own addresses (what a load balancer forwards to) and the one public URL in front of them. */
let gatewayUrls: string[] = [];
let publicUrl: string;
const tokens = new Map<User, string>();

beforeAll(async () => {
  database = await createTestDatabase('scale_out');
  // The public URL is the load balancer's: nothing listens there; the test forwards each request to one gateway.
  publicUrl = `http://127.0.0.1:${await freePort()}`;
  const browserClient = { clientId: 'baton-gateway', clientSecret: randomBytes(24).toString('base64url') };
  stack = await Stack.start({
    publicUrl,
    idp: { clients: { baton: { ...browserClient, redirectUris: [`${publicUrl}/auth/callback`] } } },
    config: () => ({
      yaml: openToEveryone,
      env: { BATON_DATABASE_URL: database.url, BATON_IDP_CLIENT_ID: browserClient.clientId, BATON_IDP_CLIENT_SECRET: browserClient.clientSecret },
    }),
  });
  // Stack.start started one worker (on the suite's database and task queue); it stays as a third process
  // only until ours are up, then it is stopped so exactly two workers serve the queue.
  workers = [new Worker(stack.workerEnv), new Worker(stack.workerEnv)];
  await Promise.all(workers.map((worker) => worker.ready()));
  await stack.worker.stop();

  const shared: NodeJS.ProcessEnv = {
    ...stack.workerEnv,
    BATON_IDP_ISSUER: stack.sandbox.idpIssuer,
    BATON_IDP_CLIENT_ID: browserClient.clientId,
    BATON_IDP_CLIENT_SECRET: browserClient.clientSecret,
    BATON_IDENTITY_PRIVATE_JWK: JSON.stringify(stack.identityKey),
    BATON_REQUEST_STATE_KEY: randomBytes(32).toString('base64url'),
    BATON_MCP_WAIT_SECONDS: '90',
    NODE_NO_WARNINGS: '1',
  };
  const ports = [await freePort(), await freePort()];
  gatewayUrls = ports.map((port) => `http://127.0.0.1:${port}`);
  gateways = ports.map((port) => new BatonProcess({ ...shared, PORT: String(port) }));
  await Promise.all(gateways.map((gateway) => gateway.start()));
  for (const user of users) {
    const signedIn = await signInOverHttp({
      issuer: stack.sandbox.idpIssuer,
      clientId: cliClient.clientId,
      redirectUri: cliClient.redirectUri,
      resource: `${publicUrl}/mcp`,
      scope: 'openid profile email mcp:tools',
      username: user,
      password: user,
    });
    tokens.set(user, signedIn.accessToken);
  }
}, 150_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.kill()));
  await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
  await stack?.close();
  await database?.drop();
});

/** A request to the public URL, forwarded by the "load balancer" to the given gateway. */
const via = (url: string | URL, gateway: number): URL => {
  const target = new URL(url);
  if (target.origin !== publicUrl) return target;
  return new URL(`${target.pathname}${target.search}`, gatewayUrls[gateway]);
};

async function connectMcp(user: User, gateway: number): Promise<Client> {
  const { Client: McpClient, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
  const client = new McpClient({ name: 'scale-out-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', gatewayUrls[gateway]), { requestInit: { headers: { Authorization: `Bearer ${tokens.get(user)}` } } }));
  return client;
}

/** The user's browser on a consent link: every request to Baton's public URL lands on `gateway`. */
async function consentInBrowserVia(link: string, user: User, gateway: number): Promise<{ status: number; text: string }> {
  const browser = new CookieKeepingClient();
  let target = new URL(link);
  for (let hop = 0; hop < 8; hop += 1) {
    const response = await browser.fetch(via(target, gateway));
    const location = response.headers.get('location');
    if (!location) return { status: response.status, text: await response.text() };
    // Baton's redirects name the public URL (resolve relative ones against it, not the gateway's own address).
    const next = new URL(location, target.origin === publicUrl ? target : via(target, gateway));
    if (next.origin === publicUrl) {
      target = next;
      continue;
    }
    target = await approveConsentOverHttp(next.href, { username: user, password: user }, 'approve', browser);
  }
  throw new Error(`too many redirects following ${link}`);
}

async function postRun(user: User, gateway: number, args: unknown, wait: number): Promise<{ status: number; body: any }> {
  const response = await fetch(`${gatewayUrls[gateway]}/api/tools/triage_pull_request/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.get(user)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ arguments: args, wait }),
  });
  return { status: response.status, body: await response.json() };
}

async function requestLog(since = 0): Promise<LoggedRequest[]> {
  return (await stack.sandboxGet<{ requests: LoggedRequest[] }>(`/_sandbox/requests?since=${since}`)).requests;
}

test('a run started through gateway 1 pauses, its consent lands on gateway 2, the retry through gateway 1 gets the result', async () => {
  const client = await connectMcp('alice', 0);
  const call = { name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } };
  const first = await client.callTool(call);
  const paused = first.structuredContent as { status: string; runId: string; authorizationUrls: Record<string, string> };
  expect(paused).toMatchObject({ status: 'auth_required', runId: expect.any(String) });
  expect(Object.keys(paused.authorizationUrls).sort()).toEqual(['github', 'slack']);
  for (const url of Object.values(paused.authorizationUrls)) expect(url.startsWith(`${publicUrl}/connect/`)).toBe(true);

  // The browser's requests to the public URL (the link, the sign-in return, the app's callback) are served by gateway 2.
  const pages = [];
  for (const link of Object.values(paused.authorizationUrls)) pages.push(await consentInBrowserVia(link, 'alice', 1));
  expect(pages.map((page) => page.status)).toEqual([200, 200]);
  expect(pages.map((page) => page.text).join('\n')).toMatch(/GitHub connected as @alice[\s\S]*Slack connected as @alice/);

  const retry = await client.callTool(call);
  expect(retry.isError).toBeFalsy();
  expect(retry.structuredContent).toMatchObject({ title: 'Add retry to widget sync', jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  // The same run, not a new one.
  const { events } = await stack.client.workflow.getHandle(paused.runId).fetchHistory();
  expect(events?.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
  await client.close();
}, 90_000);

test('every user connects GitHub and Slack', async () => {
  await Promise.all(
    users
      .filter((user) => user !== 'alice')
      .map(async (user) => {
        for (const app of ['github', 'slack']) expect(await stack.consent(identityOf(user), app)).toMatchObject({ outcome: 'connected', externalLogin: user });
      }),
  );
});

test('the worker running a call is SIGKILLed mid-call; the other worker finishes the run', async () => {
  await stack.sandboxPost('/_sandbox/delay', { app: 'github', pathPrefix: '/repos/acme/widgets/pulls/1', ms: 4_000, times: 1 });
  const started = await postRun('bob', 1, { repo: 'acme/widgets', number: 1 }, 0);
  expect(started.status).toBe(202);
  const runId = started.body.runId as string;

  // Which worker holds the activity: Temporal names the worker identity (pid@host) that started it.
  const child = stack.client.workflow.getHandle(`${runId}/summarize_pull_request-1`);
  let holder: Worker | undefined;
  for (let attempt = 0; attempt < 60 && !holder; attempt += 1) {
    const description = await child.describe().catch(() => undefined);
    const identity = description?.raw.pendingActivities?.find((activity) => activity.lastWorkerIdentity)?.lastWorkerIdentity;
    if (identity) holder = workers.find((worker) => identity.startsWith(`${worker.child.pid}@`));
    if (!holder) await sleep(100);
  }
  expect(holder).toBeDefined();
  const survivor = workers.find((worker) => worker !== holder)!;
  await holder!.stop('SIGKILL');
  expect(holder!.alive).toBe(false);

  const result = await stack.client.workflow.getHandle(runId).result();
  expect(result).toMatchObject({ title: 'Add retry to widget sync', jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  expect(survivor.alive).toBe(true);
  const { events } = await child.fetchHistory();
  const identities = new Set((events ?? []).map((event) => event.activityTaskStartedEventAttributes?.identity).filter(Boolean));
  expect(identities).toEqual(new Set([expect.stringMatching(new RegExp(`^${survivor.child.pid}@`))]));

  // A fresh worker replaces the killed one, so two serve the queue again for the load below.
  const replacement = new Worker(stack.workerEnv);
  await replacement.ready();
  workers = [survivor, replacement];
}, 90_000);

test('200 runs from 10 users over both gateways all complete, every app call with its own user’s credential', async () => {
  const since = (await requestLog()).at(-1)?.seq ?? 0;
  const jobs = users.flatMap((user) => Array.from({ length: 20 }, (_, n) => ({ user, gateway: n % 2 })));
  const outcomes: Array<{ user: User; gateway: number; runId: string; status: string }> = [];
  let next = 0;
  const started = performance.now();
  // 40 calls in flight at a time, alternating gateways.
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const { status, body } = await postRun(job.user, job.gateway, { repo: 'acme/widgets', number: 1 }, 90);
        expect(status).toBe(200);
        outcomes.push({ ...job, runId: body.runId, status: body.status });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`scale-out: 200 runs in ${seconds.toFixed(1)} s\n`);
  expect(outcomes).toHaveLength(200);
  expect(outcomes.filter((outcome) => outcome.status !== 'completed')).toEqual([]);
  expect(outcomes.filter((outcome) => outcome.gateway === 0)).toHaveLength(100);
  expect(new Set(outcomes.map((outcome) => outcome.runId)).size).toBe(200);

  // At the apps: per run, 4 calls with the user's own token (pulls.get, postMessage, getPermalink, the comment), Jira with the service account.
  const requests = (await requestLog(since)).filter((request) => !request.path.includes('oauth') && !request.path.startsWith('/_'));
  const userCalls = requests.filter((request) => request.app !== 'jira');
  expect(userCalls).toHaveLength(800);
  expect(userCalls.every((request) => request.credential.scheme === 'bearer' && request.credential.valid)).toBe(true);
  for (const user of users) expect(userCalls.filter((request) => request.credential.user === user)).toHaveLength(80);
  // Writes name their run (idempotency key = run's step key): the token on each one is that run's user's.
  const userOfRun = new Map(outcomes.map((outcome) => [outcome.runId, outcome.user]));
  const writes = userCalls.filter((request) => request.idempotencyKey);
  expect(writes.filter((request) => request.path === '/repos/acme/widgets/issues/1/comments')).toHaveLength(200);
  for (const request of writes) {
    const runId = [...userOfRun.keys()].find((id) => request.idempotencyKey!.startsWith(id));
    expect({ key: request.idempotencyKey, user: runId && userOfRun.get(runId) }).toEqual({ key: request.idempotencyKey, user: request.credential.user });
  }
  const jira = requests.filter((request) => request.app === 'jira');
  expect(jira).toHaveLength(200);
  expect(jira.every((request) => request.credential.user === 'service-account')).toBe(true);

  // The audit trail in PostgreSQL: one app_call per call, each naming the run's own user and credential.
  for (const { runId, user } of outcomes) {
    const calls = (await stack.stores.audit.forRun(runId)).filter((record) => record.kind === 'app_call');
    expect(calls.map((record) => [record.app, record.action, record.actor.subject, record.credential?.externalAccount ?? null, record.outcome])).toEqual([
      ['github', 'pulls.get', user, user, 'ok'],
      ['slack', 'chat.postMessage', user, user, 'ok'],
      ['slack', 'chat.getPermalink', user, user, 'ok'],
      ['jira', 'issues.create', user, 'svc-baton@acme.example', 'ok'],
      ['github', 'issues.createComment', user, user, 'ok'],
    ]);
  }

  // Straight from PostgreSQL (not through the stores): the suite's database holds every app call, per user,
  // and no process fell back to a SQLite file under BATON_HOME.
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  try {
    const runIds = outcomes.map((outcome) => outcome.runId);
    const { rows } = await sql.query("SELECT subject, count(*)::int AS n FROM audit_events WHERE kind = 'app_call' AND root_run_id = ANY($1) GROUP BY subject ORDER BY subject", [runIds]);
    expect(rows).toEqual(users.map((user) => ({ subject: user, n: 100 })).sort((a, b) => a.subject.localeCompare(b.subject)));
  } finally {
    await sql.end();
  }
  expect(existsSync(stack.settings.databasePath)).toBe(false);
}, 150_000);
