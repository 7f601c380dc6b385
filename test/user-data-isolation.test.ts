/**
 * Each user sees their own runs and connections, through the API and the command line (which acts with
 * the user's token): bob gets nothing of alice's, not even that her run exists.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { alice, bob } from './support/identities.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started));

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));
let tokens: { alice: string; bob: string };
let aliceRun: string;
let pausedRun: string;

function cli(token: string, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [baton, ...args], { env: { ...gs.gatewayEnv, BATON_URL: gs.url, BATON_TOKEN: token } }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function api<T>(token: string, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${gs.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T };
}

interface ListedRun {
  runId: string;
  state: string;
  waitingFor: { app: string; connectUrl: string }[];
  steps: { app: string; action: string; credential: { owner: string; externalAccount: string } }[];
}

beforeAll(async () => {
  tokens = { alice: await gs.tokenFor('alice'), bob: await gs.tokenFor('bob') };
  for (const app of ['github', 'slack']) await gs.stack.consent(alice, app);
  await gs.stack.consent(bob, 'github');
  const client = await gs.connect(tokens.alice);
  const done = await client.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  aliceRun = String((done._meta as Record<string, unknown>)['baton/runId']);
  await client.close();
  // bob's own run, paused: he has not connected Slack.
  const bobClient = await gs.connect(tokens.bob);
  const paused = await bobClient.callTool({ name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  pausedRun = String((paused.structuredContent as { runId: string }).runId);
  await bobClient.close();
});

test('the runs API: alice sees her completed run with its steps and whose credential; bob sees only his, waiting for him', async () => {
  const own = await api<ListedRun>(tokens.alice, `/api/runs/${aliceRun}`);
  expect(own.status).toBe(200);
  expect(own.body.state).toBe('completed');
  expect(own.body.steps.map((step) => [step.app, step.action, step.credential.owner, step.credential.externalAccount])).toEqual([
    ['github', 'pulls.get', 'user', 'alice'],
    ['slack', 'chat.postMessage', 'user', 'alice'],
    ['slack', 'chat.getPermalink', 'user', 'alice'],
    ['jira', 'issues.create', 'service_account', 'svc-baton@acme.example'],
    ['github', 'issues.createComment', 'user', 'alice'],
  ]);

  const bobs = await api<{ runs: ListedRun[] }>(tokens.bob, '/api/runs');
  expect(bobs.body.runs.map((run) => run.runId)).toEqual([pausedRun]);
  expect(bobs.body.runs[0]).toMatchObject({ state: 'waiting', waitingFor: [{ app: 'slack', connectUrl: expect.stringMatching(/\/connect\/[\w-]+$/) }] });
  const hers = await api<{ error: string; message: string }>(tokens.bob, `/api/runs/${aliceRun}`);
  expect(hers).toEqual({ status: 404, body: { error: 'not_found', message: `No run "${aliceRun}" of yours is known here.` } });
  expect(await api(tokens.bob, '/api/runs/no-such-run')).toEqual({ status: 404, body: { error: 'not_found', message: 'No run "no-such-run" of yours is known here.' } });
});

test("baton runs and baton connections act as the token holder: bob gets nothing of alice's", async () => {
  const aliceRuns = await cli(tokens.alice, 'runs');
  expect(aliceRuns.status).toBe(0);
  expect(aliceRuns.stdout).toMatch(new RegExp(`completed +triage_pull_request +${aliceRun}`));
  const shown = await cli(tokens.alice, 'runs', 'show', aliceRun);
  expect(shown.stdout).toContain('jira issues.create → ok (the service account)');
  expect(shown.stdout).toContain('github issues.createComment → ok (your alice connection)');

  const bobRuns = await cli(tokens.bob, 'runs');
  expect(bobRuns.stdout).not.toContain(aliceRun);
  expect(bobRuns.stdout).toMatch(/waiting for you to connect Slack: http:\/\/\S+\/connect\//);
  expect(await cli(tokens.bob, 'runs', 'show', aliceRun)).toMatchObject({ status: 1, stderr: expect.stringContaining(`404: No run "${aliceRun}" of yours is known here.`) });

  const bobConnections = await cli(tokens.bob, 'connections', 'list');
  expect(bobConnections.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^github +active +as bob /)]);
  expect(await cli(tokens.bob, 'connections', 'revoke', '--app', 'slack')).toMatchObject({ status: 1, stderr: expect.stringContaining('404: bob has no slack connection.') });
  expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'alice', 'slack')).toMatchObject({ status: 'active' });
  expect((await cli(tokens.alice, 'connections', 'list')).stdout).toMatch(/^slack +active +as alice /m);
  expect(await cli('', 'runs')).toMatchObject({ status: 1, stderr: expect.stringContaining('no token: set BATON_TOKEN') });
});

test('alice revokes her own Slack connection from the command line', async () => {
  const revoked = await cli(tokens.alice, 'connections', 'revoke', '--app', 'slack');
  expect(revoked).toMatchObject({ status: 0, stdout: expect.stringContaining('Revoked your slack connection: deleted from Baton and revoked at slack.') });
  expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'alice', 'slack')).toBeUndefined();
  expect((await gs.stack.stores.audit.query({ tenant: 'acme', subject: 'alice', kind: 'connection.revoked' }))[0]).toMatchObject({ app: 'slack', outcome: 'ok', actor: { authMethod: 'oauth' } });
  expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'bob', 'github')).toMatchObject({ status: 'active' });
});
