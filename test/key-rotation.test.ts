/**
 * Issue 6: key management, with real parts — a worker process, Temporal, the sandbox apps, and
 * `baton keys …` run as its own process against the same database.
 *
 * (a) Vault key rotation while runs use connections, done as an operator would: deploy the new key as a
 *     previous key, then as the current key (rolling restarts), run `baton keys rotate-vault`, drop the old
 *     key (rolling restart). No run fails, every sealed value ends under the new key, and the old key
 *     opens nothing.
 * (b) Identity key rotation: a run paused for consent keeps its identity signed with the old key through
 *     the rotation and completes; new runs are signed with the new key; once retired, the old key's
 *     identities are refused by name.
 * (c) The development key file: `baton keys rotate-vault` makes the new key itself, and a process using
 *     the file keeps working through the rotation without a restart.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { loadSettings } from '../core/config/settings.ts';
import type { IdentityContext } from '../core/identity/context.ts';
import { createIdentitySigner } from '../core/identity/signer.ts';
import { openStores } from '../core/stores.ts';
import { parseVaultKey, unseal, Vault, VaultKeyMismatchError } from '../core/vault/index.ts';
import { ConnectFlow } from '../gateway/consent/connect-flow.ts';
import { startTool } from '../gateway/temporal/start-tool.ts';
import { approveConsentOverHttp } from '../sandbox/browserless-consent.ts';
import { callAnything, commentOnPullRequest, probeIdentity } from './fixtures/probe-tools.ts';
import { alice, bob, passwordOf } from './support/identities.ts';
import { Stack } from './support/stack.ts';
import { until } from './support/until.ts';
import { WorkerProcess } from './support/worker-process.ts';

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long GitHub holds the refreshes that test (a) makes the rotation meet. */
const HOLD_MS = 10_000;

/** `baton …` as its own process, asynchronously (the sandbox it may talk to lives in this one). */
function runBaton(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { NODE_OPTIONS: _jestOnly, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [baton, ...args], { env: { ...inherited, ...env } }, (error, stdout, stderr) => {
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The value of `NAME='…'` in the command's output (what the operator is told to configure). */
function printedValue(output: string, name: string): string {
  const match = new RegExp(`^${name}='([^']*)'$`, 'm').exec(output);
  if (!match) throw new Error(`no ${name}=… in:\n${output}`);
  return match[1]!;
}

let stack: Stack;

/**
 * The user consents through a gateway running with the current configuration. (The stack's own stores,
 * standing in for the gateway, were opened with the vault key of the start; after test (a) a real gateway
 * would have been redeployed with the new key like the worker.)
 */
async function consentThroughRedeployedGateway(user: IdentityContext, app: string) {
  const stores = await openStores(stack.settings, stack.workerEnv);
  try {
    const flow = new ConnectFlow(stack.settings, stores, stack.client);
    const sessionBinding = `test-session-${user.subject}`;
    const authorizeUrl = await flow.authorizeUrl({ tenant: user.tenant, subject: user.subject, app }, sessionBinding);
    const redirect = await approveConsentOverHttp(authorizeUrl.toString(), passwordOf(user), 'approve');
    return await flow.handleCallback(app, redirect, sessionBinding);
  } finally {
    await stores.close();
  }
}

beforeAll(async () => {
  // Short-lived access tokens: the worker refreshes them (storing new sealed tokens) all through the rotation.
  stack = await Stack.start({ accessTokenTtlSeconds: 6 });
  for (const user of [alice, bob]) for (const app of ['github', 'slack']) await stack.consent(user, app);
}, 120_000);

afterAll(async () => stack?.close());

/** A rolling restart of the stack's worker with changed environment: the new process starts before the old one stops. */
async function redeployWorker(change: Record<string, string | undefined>): Promise<void> {
  for (const [name, value] of Object.entries(change)) {
    if (value === undefined) delete stack.workerEnv[name];
    else stack.workerEnv[name] = value;
  }
  const previous = stack.worker;
  await stack.startNewWorker();
  await previous.stop();
}

interface LoggedRequest {
  app: string;
  /** When the app answered. */
  at: string;
  grantType?: string;
  status: number;
  credential: { user: string | null };
}
const sandboxRequests = async () => (await stack.sandboxGet<{ requests: LoggedRequest[] }>('/_sandbox/requests')).requests;

/** Every sealed value in the database with the fingerprint of the key it is under. */
async function sealedValues() {
  const db = stack.stores.db;
  return [
    ...(await db.all<{ sealed: string; aad: string }>("SELECT value AS sealed, 'vault_meta:key_check' AS aad FROM vault_meta WHERE name = 'key_check'")),
    ...(await db.all<{ tenant: string; subject: string; app: string; sealed: string }>('SELECT tenant, subject, app, sealed_secret AS sealed FROM vault_connections')).map((row) => ({
      sealed: row.sealed,
      aad: `connection:${[row.tenant, row.subject, row.app].map(encodeURIComponent).join(':')}`,
    })),
    ...(await db.all<{ app: string; sealed: string }>('SELECT app, sealed_secret AS sealed FROM vault_service_credentials')).map((row) => ({
      sealed: row.sealed,
      aad: `service:${encodeURIComponent(row.app)}`,
    })),
    ...(await db.all<{ ref: string; tenant: string; subject: string; sealed: string }>('SELECT ref, tenant, subject, sealed_token AS sealed FROM vault_inbound_tokens')).map((row) => ({
      sealed: row.sealed,
      aad: `inbound:${[row.ref, row.tenant, row.subject].map(encodeURIComponent).join(':')}`,
    })),
  ].map((value) => ({ ...value, fingerprint: value.sealed.split('.')[1] }));
}

test('(a) vault key rotation while runs use connections: no failed call, every value re-encrypted, the old key opens nothing', async () => {
  const oldText = stack.workerEnv.BATON_VAULT_KEY!;
  const newText = randomBytes(32).toString('base64');
  const oldKey = parseVaultKey(oldText, 'env', 'old');
  const newKey = parseVaultKey(newText, 'env', 'new');

  // Plenty of other users' values, so the rotation takes many small transactions while the runs go on.
  for (let n = 0; n < 400; n++) {
    await stack.stores.vault.putConnection({
      tenant: 'bulk',
      subject: `user-${String(n).padStart(3, '0')}`,
      app: 'github',
      accessToken: `bulk-access-${n}`,
      refreshToken: `bulk-refresh-${n}`,
      scopes: ['repo'],
      externalAccountId: `bulk-${n}`,
      externalLogin: `user-${n}`,
    });
  }
  for (let n = 0; n < 200; n++) await stack.stores.vault.putInboundToken(`bulk-ref-${n}`, { tenant: 'bulk', subject: `user-${n}` }, `bulk-inbound-${n}`, Date.now() + 3_600_000);
  const versionsBefore = new Map(
    (await stack.stores.db.all<{ key: string; version: number }>("SELECT subject || '/' || app AS key, version FROM vault_connections WHERE tenant = 'acme'")).map((row) => [
      row.key,
      Number(row.version),
    ]),
  );
  expect((await sealedValues()).every((value) => value.fingerprint === oldKey.fingerprint)).toBe(true);

  // Runs calling GitHub and Slack as alice and bob, back to back, from start to finish of the rotation.
  const failures: string[] = [];
  const completedAt: number[] = [];
  let stop = false;
  const requests = [
    [alice, 'github', 'users.getAuthenticated'],
    [bob, 'slack', 'auth.test'],
    [bob, 'github', 'users.getAuthenticated'],
    [alice, 'slack', 'auth.test'],
  ] as const;
  let held: LoggedRequest[] = [];
  // Two loops per user and app: while one app is slow (its refreshes held, below), the others' runs go on.
  const loops = Array.from({ length: 2 * requests.length }, async (_, loop) => {
    const [user, app, action] = requests[loop % requests.length]!;
    while (!stop) {
      try {
        const handle = await stack.run(user, callAnything, { app, action, input: {} });
        // A lost refresh would show here as a run paused for re-consent (the provider refuses a used refresh token).
        const outcome = await stack.awaitOutcome(handle);
        if (outcome.state !== 'completed') {
          failures.push(`${handle.workflowId}: ${JSON.stringify(outcome)}`);
          await handle.terminate('test: counted as a failure');
          continue;
        }
        const result = (await handle.result()) as { login: string };
        if (result.login !== user.subject) failures.push(`${handle.workflowId}: ${app} answered as ${result.login}`);
        completedAt.push(Date.now());
      } catch (error) {
        const cause = (error as Error).cause;
        failures.push(`${user.subject} ${app}: ${(error as Error).message} ${cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : ''}`);
      }
    }
  });
  try {
    await sleep(1_000);
    // 1. Every process learns the new key without using it yet, then switches to it (the old one stays as a previous key).
    await redeployWorker({ BATON_VAULT_KEY: oldText, BATON_VAULT_PREVIOUS_KEYS: newText });
    await redeployWorker({ BATON_VAULT_KEY: newText, BATON_VAULT_PREVIOUS_KEYS: oldText });
    await sleep(1_000);

    // 2. The operator re-encrypts everything, as a separate process, while the runs go on. To make sure the
    // rotation meets refreshes in flight, alice's and bob's GitHub tokens expire now and GitHub holds the
    // refreshes for 10 s: the rotation re-encrypts those rows (they come first) while the refreshes wait.
    // (First the short-lived tokens are replaced by long-lived ones, so no refresh but these two happens then.)
    await stack.sandboxPost('/_sandbox/settings', { accessTokenTtlSeconds: 3600 });
    await sleep(4_000);
    await stack.sandboxPost('/_sandbox/delay', { app: 'github', pathPrefix: '/login/oauth/access_token', ms: HOLD_MS, times: 2 });
    const logBefore = (await sandboxRequests()).length;
    // Issued 10 s ago and expired: the worker refreshes at the next call.
    await stack.stores.db.run("UPDATE vault_connections SET expires_at = ?, updated_at = ? WHERE tenant = 'acme' AND app = 'github'", Date.now() - 1, Date.now() - 10_000);
    // Both refreshes have reached GitHub and are held there (the delay rule is used up) before the rotation starts.
    await until('alice’s and bob’s refreshes held at GitHub', async () => {
      const { pending } = (await (await fetch(new URL('/_sandbox/delay', stack.sandbox.url))).json()) as { pending: unknown[] };
      return pending.length === 0 ? true : undefined;
    });
    const rotationStarted = Date.now();
    const rotation = await runBaton(stack.workerEnv, 'keys', 'rotate-vault', '--batch-size', '10', '--pause-ms', '10');
    const rotationEnded = Date.now();
    expect({ status: rotation.status, stderr: rotation.stderr }).toEqual({ status: 0, stderr: '' });
    expect(rotation.stdout).toContain(`Re-encrypting the vault under ${newKey.fingerprint} (BATON_VAULT_KEY); previous keys: ${oldKey.fingerprint}.`);
    expect(rotation.stdout).toMatch(/key check: +1 re-encrypted, 0 already current, 0 unreadable/);
    // 400 bulk rows plus alice's and bob's four; a connection the worker refreshed (under the new key) before
    // the rotation reached it needs no re-encryption.
    const connections = /connections: +(\d+) re-encrypted, (\d+) already current, 0 unreadable/.exec(rotation.stdout);
    expect(Number(connections?.[1])).toBeGreaterThanOrEqual(400);
    expect(Number(connections?.[1]) + Number(connections?.[2])).toBeLessThanOrEqual(404);
    expect(rotation.stdout).toMatch(/inbound tokens: +200 re-encrypted, 0 already current, 0 unreadable/);
    expect(rotation.stdout).toContain(`Every sealed value is now under ${newKey.fingerprint}.`);
    expect(rotation.stdout).toContain('Next: remove BATON_VAULT_PREVIOUS_KEYS');
    expect(completedAt.filter((at) => at >= rotationStarted && at <= rotationEnded).length).toBeGreaterThan(0);
    // The two held refreshes were in flight when the rotation started (the log records when each one answered).
    await sleep(Math.max(0, rotationStarted + HOLD_MS + 500 - Date.now()));
    // Held ones answered HOLD_MS after they were asked: asked before the rotation started, answered after it ended.
    held = (await sandboxRequests())
      .slice(logBefore)
      .filter((request) => request.app === 'github' && request.grantType === 'refresh_token')
      .filter((request) => Date.parse(request.at) - HOLD_MS < rotationStarted && Date.parse(request.at) > rotationEnded);

    await stack.sandboxPost('/_sandbox/settings', { accessTokenTtlSeconds: 6 });

    // 3. The old key leaves the configuration.
    await redeployWorker({ BATON_VAULT_KEY: newText, BATON_VAULT_PREVIOUS_KEYS: undefined });
    await sleep(2_000);
  } finally {
    stop = true;
    await Promise.all(loops);
  }

  expect(failures).toEqual([]);
  expect(completedAt.length).toBeGreaterThan(40);
  // Every refresh GitHub and Slack saw succeeded: no refresh token was ever presented twice (a lost refresh would).
  const refreshes = (await sandboxRequests()).filter((request) => request.grantType === 'refresh_token');
  expect(refreshes.length).toBeGreaterThan(4);
  expect(refreshes.filter((request) => request.status !== 200)).toEqual([]);
  // The rotation did meet refreshes in flight: alice's and bob's, held at GitHub from before it started until after.
  expect(held.map((request) => `${request.credential.user} ${request.status}`).sort()).toEqual(['alice 200', 'bob 200']);
  // The worker refreshed tokens during all this (each refresh a new sealed value, version + 1), and none was lost.
  const versionsAfter = await stack.stores.db.all<{ key: string; version: number }>("SELECT subject || '/' || app AS key, version FROM vault_connections WHERE tenant = 'acme'");
  expect(versionsAfter.some((row) => Number(row.version) > (versionsBefore.get(row.key) ?? 0))).toBe(true);
  expect((await stack.stores.db.all<{ status: string }>("SELECT status FROM vault_connections WHERE tenant = 'acme'")).every((row) => row.status === 'active')).toBe(true);

  // Every sealed value carries the new key's fingerprint ...
  const values = await sealedValues();
  expect(values.length).toBeGreaterThanOrEqual(1 + 404 + 200);
  expect(values.filter((value) => value.fingerprint !== newKey.fingerprint)).toEqual([]);
  // ... opens with the new key alone ...
  for (const value of values) expect(() => unseal(newKey, value.sealed, value.aad)).not.toThrow();
  // ... and the old key opens nothing: not one value, not the vault, not a worker.
  for (const value of values) expect(() => unseal(oldKey, value.sealed, value.aad)).toThrow(VaultKeyMismatchError);
  await expect(Vault.open(stack.stores.db, oldKey)).rejects.toThrow(`this vault was encrypted with vault key ${newKey.fingerprint} but BATON_VAULT_KEY is ${oldKey.fingerprint}`);
  const oldKeyWorker = new WorkerProcess({ ...stack.workerEnv, BATON_VAULT_KEY: oldText });
  await expect(oldKeyWorker.start()).rejects.toThrow(/worker failed: this vault was encrypted with vault key/);
  expect(oldKeyWorker.output).not.toMatch(/worker ready/);

  // Running the command again has nothing left to move, and says how the next rotation would go.
  const again = await runBaton(stack.workerEnv, 'keys', 'rotate-vault');
  expect(again.status).toBe(0);
  expect(again.stdout).toContain(`Every sealed value is under the current vault key ${newKey.fingerprint} (BATON_VAULT_KEY); nothing to re-encrypt.`);
  expect(again.stdout).toMatch(/^ {2}NEW_BATON_VAULT_KEY='[A-Za-z0-9+/]{43}='$/m);
}, 240_000);

test('(b) identity key rotation: a paused run signed with the old key completes, new runs use the new key, the retired key is refused', async () => {
  const oldKey = stack.identityKey;
  let gatewayKey: JWK = oldKey;
  const operatorEnv = () => ({ ...stack.workerEnv, BATON_IDENTITY_PRIVATE_JWK: JSON.stringify(gatewayKey) });

  // A run that pauses for consent, its identity signed with the old key.
  const dana = { ...bob, tenant: 'rotation-tenant' };
  const paused = await stack.run(dana, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'signed before the rotation' });
  const status = await stack.awaitOutcome(paused);
  expect(status.state).toBe('paused');

  // The operator rotates: a new signing key, and a key set with both public keys.
  const rotated = await runBaton(operatorEnv(), 'keys', 'rotate-identity');
  expect({ status: rotated.status, stderr: rotated.stderr }).toEqual({ status: 0, stderr: '' });
  const jwks = JSON.parse(printedValue(rotated.stdout, 'BATON_IDENTITY_JWKS')) as { keys: JWK[] };
  const newKey = JSON.parse(printedValue(rotated.stdout, 'BATON_IDENTITY_PRIVATE_JWK')) as JWK;
  expect(newKey.kid).not.toBe(oldKey.kid);
  expect(jwks.keys.map((key) => key.kid)).toEqual([newKey.kid, oldKey.kid]);
  expect(jwks.keys.some((key) => 'd' in key)).toBe(false);
  expect(rotated.stdout).toContain(`baton keys retire-identity ${oldKey.kid}`);

  // 1. Workers trust both keys; 2. the gateway signs with the new one.
  await redeployWorker({ BATON_IDENTITY_JWKS: JSON.stringify(jwks) });
  gatewayKey = newKey;
  const signNew = await createIdentitySigner(newKey);
  const runNew = (user: typeof alice, tool: typeof probeIdentity, input: unknown) => startTool(stack.client, signNew, { tool, input, identity: user, taskQueue: stack.settings.temporal.taskQueue });
  const fresh = await runNew(alice, probeIdentity, {});
  expect(await fresh.result()).toMatchObject({ identity: { subject: 'alice' }, githubLogin: 'alice' });

  // Retiring the old key now would strand the paused run: the command checks Temporal and refuses.
  const tooEarly = await runBaton(operatorEnv(), 'keys', 'retire-identity', oldKey.kid!);
  expect({ status: tooEarly.status, stderr: tooEarly.stderr }).toEqual({ status: 1, stderr: expect.stringContaining('would fail with IdentityRejected') });
  expect(tooEarly.stderr).toContain(`1 open run(s) still carry identities signed with "${oldKey.kid}": ${paused.workflowId}.`);
  expect(tooEarly.stdout).not.toContain('BATON_IDENTITY_JWKS=');

  // The paused run resumes after consent and completes: its identity still verifies with the old public key.
  await consentThroughRedeployedGateway(dana, 'github');
  expect(await paused.result()).toMatchObject({ body: 'signed before the rotation' });

  // Its runs over, the old key is retired.
  for (let tries = 0; ; tries++) {
    const { count } = await stack.client.workflow.count(`TaskQueue = "${stack.settings.temporal.taskQueue}" AND ExecutionStatus = "Running"`);
    if (count === 0) break;
    if (tries > 50) throw new Error(`${count} runs still open`);
    await sleep(200);
  }
  const retired = await runBaton(operatorEnv(), 'keys', 'retire-identity', oldKey.kid!);
  expect({ status: retired.status, stderr: retired.stderr }).toEqual({ status: 0, stderr: '' });
  expect(retired.stdout).toContain(`No open run or schedule carries an identity signed with "${oldKey.kid}"`);
  const remaining = JSON.parse(printedValue(retired.stdout, 'BATON_IDENTITY_JWKS')) as { keys: JWK[] };
  expect(remaining.keys.map((key) => key.kid)).toEqual([newKey.kid]);
  await redeployWorker({ BATON_IDENTITY_JWKS: JSON.stringify(remaining) });

  // An identity signed with the retired key is refused, with a message naming the key.
  const stale = await stack.run(alice, probeIdentity, {});
  await expect(stale.result()).rejects.toThrow();
  const refused = await stale.query<{ state: string; error: { type: string; message: string } }>('baton.status');
  expect(refused).toMatchObject({ state: 'failed', error: { type: 'IdentityRejected' } });
  expect(refused.error.message).toBe(`The run's identity was rejected: it was signed by a key this worker does not trust (key id "${oldKey.kid}": retired, or never in BATON_IDENTITY_JWKS).`);
  // The new key keeps working.
  expect(await (await runNew(alice, probeIdentity, {})).result()).toMatchObject({ identity: { subject: 'alice' } });
  // Nobody can retire the key the gateways sign with.
  const signing = await runBaton(operatorEnv(), 'keys', 'retire-identity', newKey.kid!, '--force');
  expect(signing.status).toBe(1);
  expect(signing.stderr).toContain('is the current signing key');
}, 180_000);

test('(c) development key file: the command makes the new key, and a running process follows the file without a restart', async () => {
  const home = mkdtempSync(join(tmpdir(), 'baton-dev-keys-'));
  const env = { BATON_HOME: home, NODE_NO_WARNINGS: '1' };
  try {
    // A "running process" on the development key file (as `npm start` has them).
    const stores = await openStores(loadSettings(env), env);
    try {
      for (const subject of ['alice', 'bob', 'carol']) {
        await stores.vault.putConnection({ tenant: 'acme', subject, app: 'github', accessToken: `dev-${subject}`, scopes: [], externalAccountId: subject, externalLogin: subject });
      }
      await stores.vault.putServiceCredential('jira', { username: 'svc', password: 'dev-password' });
      const before = readFileSync(join(home, 'vault.key'), 'utf8');
      const oldKey = parseVaultKey(before.trim(), 'file', 'old');

      const rotation = await runBaton(env, 'keys', 'rotate-vault', '--settle-ms', '100');
      expect({ status: rotation.status, stderr: rotation.stderr }).toEqual({ status: 0, stderr: '' });
      const keyLines = readFileSync(join(home, 'vault.key'), 'utf8')
        .split('\n')
        .filter((line) => line && !line.startsWith('#'));
      expect(keyLines).toHaveLength(1);
      const newKey = parseVaultKey(keyLines[0]!, 'file', 'new');
      expect(newKey.fingerprint).not.toBe(oldKey.fingerprint);
      expect(rotation.stdout).toMatch(/connections: +3 re-encrypted/);
      expect(rotation.stdout).toContain(`no longer holds ${oldKey.fingerprint}: the old key opens nothing.`);

      // The process never restarted: it reads every re-encrypted value and seals new ones with the new key.
      expect(await stores.vault.getServiceCredential('jira')).toEqual({ username: 'svc', password: 'dev-password' });
      for (const subject of ['alice', 'bob', 'carol']) {
        const resolved = await stores.vault.resolveUserAccessToken({ tenant: 'acme', subject, app: 'github', refresh: async () => ({ accessToken: 'unused' }) });
        expect(resolved.accessToken).toBe(`dev-${subject}`);
      }
      await stores.vault.putConnection({ tenant: 'acme', subject: 'dave', app: 'github', accessToken: 'dev-dave', scopes: [], externalAccountId: 'dave', externalLogin: 'dave' });
      const fingerprints = (await stores.db.all<{ sealed: string }>('SELECT sealed_secret AS sealed FROM vault_connections')).map((row) => row.sealed.split('.')[1]);
      expect(new Set(fingerprints)).toEqual(new Set([newKey.fingerprint]));
      await expect(Vault.open(stores.db, oldKey)).rejects.toThrow(VaultKeyMismatchError);

      const status = await runBaton(env, 'keys', 'status');
      expect(status.stdout).toMatch(new RegExp(`connections: +4 under ${newKey.fingerprint} \\(current\\)`));
    } finally {
      await stores.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}, 60_000);
