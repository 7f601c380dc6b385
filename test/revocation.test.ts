/**
 * "Revocation reaches in-flight runs": a user disconnecting an app (API, CLI) revokes it at the app and
 * deletes the secret, so runs in flight pause for consent at their next call of it and never present the
 * revoked token again; an admin disabling a user cancels their in-flight runs and refuses their calls.
 */
import type { Client as McpClient } from '@modelcontextprotocol/client';
import { WorkflowFailedError } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { operatorActor } from '../gateway/audit/actor.ts';
import { ConnectionRevocation } from '../gateway/connections/connection-revocation.ts';
import { approveConsentOverHttp, CookieKeepingClient } from '../sandbox/browserless-consent.ts';
import type { LoggedRequest } from '../sandbox/server.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { alice, bob } from './support/identities.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { postMcp } from './support/mcp-http.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

// carol signs in with a token the identity provider's key signs (the sandbox has only alice and bob).
const config = `
servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
roles:
  carol: owner
  bob: viewer
`;

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), { config });

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));
const triage = { name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } };

/** The CLI as its own process, asynchronously: the sandbox it talks to lives in this one. */
function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [baton, ...args], { env: gs.gatewayEnv }, (error, stdout, stderr) => {
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function api(token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${gs.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, json };
}

async function requestsSince(seq: number): Promise<LoggedRequest[]> {
  return ((await sandboxControl(gs.stack.sandbox.url, `/requests?since=${seq}`)) as { requests: LoggedRequest[] }).requests;
}

const carolToken = () => gs.tokenSignedFor('carol', { email: 'carol@example.com' });

interface AuthRequired {
  status: string;
  runId: string;
  authorizationUrls: Record<string, string>;
}

const structuredOf = (result: Awaited<ReturnType<McpClient['callTool']>>) => result.structuredContent as unknown as AuthRequired;

test("revoking GitHub while alice's run is paused before its second GitHub call: the run asks for consent again and never presents the revoked token", async () => {
  await gs.stack.consent(alice, 'github');
  const token = await gs.tokenFor('alice');
  const client = await gs.connect(token);
  const beforeRun = await lastLogSeq(gs.stack.sandbox.url);

  // The run reads the PR on GitHub, then pauses: Slack is not connected.
  const first = structuredOf(await client.callTool(triage));
  expect(first).toEqual({ status: 'auth_required', runId: expect.any(String), authorizationUrls: { slack: expect.stringMatching(new RegExp(`^${gs.url}/connect/`)) } });
  const firstGithubCall = (await requestsSince(beforeRun)).find((request) => request.app === 'github' && request.path === '/repos/acme/widgets/pulls/1');
  expect(firstGithubCall?.credential).toMatchObject({ user: 'alice', valid: true });
  const revokedToken = firstGithubCall!.credential.presented!;

  // While it is paused, alice disconnects GitHub through the API.
  const beforeRevoke = await lastLogSeq(gs.stack.sandbox.url);
  const listed = await api(token, 'GET', '/api/connections');
  expect(listed.json.connections).toEqual([{ app: 'github', status: 'active', externalLogin: 'alice', scopes: ['repo'], connectedAt: expect.any(String), lastUsedAt: expect.any(String) }]);
  const revoked = await api(token, 'DELETE', '/api/connections/github');
  expect(revoked).toEqual({ status: 200, json: { app: 'github', revoked: true, revokedAtProvider: true, providerError: null } });
  expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'alice', 'github')).toBeUndefined();
  expect((await api(token, 'GET', '/api/connections')).json.connections).toEqual([]);

  // The provider was asked to revoke it, the way GitHub's API takes it.
  const revocationCalls = await requestsSince(beforeRevoke);
  const clientId = gs.stack.settings.apps.get('github')!.client!.clientId;
  expect(revocationCalls).toEqual([
    expect.objectContaining({
      app: 'github',
      method: 'DELETE',
      path: `/applications/${clientId}/token`,
      status: 204,
      credential: expect.objectContaining({ scheme: 'basic', presented: clientId, user: 'alice' }),
    }),
  ]);

  // One audit record naming alice as the one who revoked it, and no token in it.
  const [record] = await gs.stack.stores.audit.query({ kind: 'connection.revoked', subject: 'alice' });
  expect(record).toMatchObject({ outcome: 'ok', app: 'github', actor: { subject: 'alice', authMethod: 'oauth' }, detail: { targetSubject: 'alice', revokedAtProvider: true, providerError: null } });
  expect(JSON.stringify(record)).not.toContain(revokedToken);

  // She approves Slack; the run resumes, posts to Slack, and pauses again for GitHub instead of commenting.
  expect((await gs.consentInBrowser(first.authorizationUrls.slack!, 'alice')).text).toContain('Slack connected as @alice');
  const second = structuredOf(await client.callTool(triage));
  expect(second).toEqual({ status: 'auth_required', runId: first.runId, authorizationUrls: { github: expect.stringMatching(new RegExp(`^${gs.url}/connect/`)) } });
  const whilePaused = await requestsSince(beforeRevoke);
  expect(whilePaused.map((request) => `${request.app} ${request.method} ${request.path}`)).toEqual(expect.arrayContaining(['slack POST /chat.postMessage']));
  expect(whilePaused.filter((request) => request.app === 'github' && request.path.startsWith('/repos/'))).toEqual([]);

  // Reconnecting GitHub lets the run finish, commenting with the new token.
  const beforeReconnect = await lastLogSeq(gs.stack.sandbox.url);
  expect((await gs.consentInBrowser(second.authorizationUrls.github!, 'alice')).text).toContain('GitHub connected as @alice');
  const done = await client.callTool(triage);
  expect(done.structuredContent).toMatchObject({ title: 'Add retry to widget sync', jiraKey: expect.stringMatching(/^OPS-/) });
  const comment = (await requestsSince(beforeReconnect)).find((request) => request.app === 'github' && request.path === '/repos/acme/widgets/issues/1/comments');
  expect(comment).toMatchObject({ status: 201, credential: { user: 'alice', valid: true } });
  expect(comment!.credential.presented).not.toBe(revokedToken);

  // From the revocation on, nothing presented the revoked token (the revocation itself sent it in its body).
  const afterRevocation = await requestsSince(beforeRevoke);
  expect(afterRevocation.filter((request) => request.credential.presented === revokedToken || Object.values(request.headers).some((value) => value.includes(revokedToken)))).toEqual([]);
  // And GitHub refuses it.
  expect((await fetch(`${gs.stack.sandbox.url}/github/api/user`, { headers: { authorization: `Bearer ${revokedToken}` } })).status).toBe(401);
  await client.close();
}, 180_000);

test('the sandbox revokes the way GitHub and Slack do: the access token and its refresh token stop working at once', async () => {
  const { sandbox, settings, stores } = gs.stack;
  for (const app of ['github', 'slack'] as const) {
    await gs.stack.consent(bob, app);
    // The tokens, as only the vault holds them (taking them also deletes the connection).
    const { accessToken, refreshToken } = (await stores.vault.takeConnectionForRevocation('acme', 'bob', app))!.secret!;
    expect(refreshToken).toEqual(expect.any(String));
    const client = settings.apps.get(app)!.client!;
    const basic = (secret: string) => `Basic ${Buffer.from(`${client.clientId}:${secret}`).toString('base64')}`;
    const refresh = async () => {
      const response = await fetch(settings.apps.get(app)!.endpoints.tokenUrl!, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: client.clientId, client_secret: client.clientSecret }),
      });
      return (await response.json()) as { error?: string; access_token?: string };
    };

    if (app === 'github') {
      const url = `${sandbox.url}/github/api/applications/${client.clientId}/token`;
      const attempt = (secret: string) =>
        fetch(url, { method: 'DELETE', headers: { authorization: basic(secret), 'content-type': 'application/json' }, body: JSON.stringify({ access_token: accessToken }) });
      expect((await attempt('wrong-secret')).status).toBe(401);
      expect((await fetch(`${sandbox.url}/github/api/user`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
      const done = await attempt(client.clientSecret);
      expect(done.status).toBe(204);
      expect((await fetch(`${sandbox.url}/github/api/user`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(401);
      expect((await attempt(client.clientSecret)).status).toBe(404);
    } else {
      const revoke = () => fetch(`${sandbox.url}/slack/api/auth.revoke`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } }).then((response) => response.json());
      expect(await revoke()).toEqual({ ok: true, revoked: true });
      const probe = await fetch(`${sandbox.url}/slack/api/auth.test`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
      expect(await probe.json()).toEqual({ ok: false, error: 'token_revoked' });
      expect(await revoke()).toEqual({ ok: false, error: 'token_revoked' });
    }
    expect((await refresh()).error).toBe('invalid_grant');
  }
}, 120_000);

test('an operator revokes a connection with the CLI: the vault row is gone and the app refuses the old token', async () => {
  const before = await lastLogSeq(gs.stack.sandbox.url);
  await gs.stack.consent(bob, 'slack');
  // Connecting asked Slack who the new token belongs to (auth.test): that is the token now in the vault.
  const oldToken = (await requestsSince(before)).find((request) => request.app === 'slack' && request.path === '/auth.test' && request.credential.user === 'bob')!.credential.presented!;

  const listed = await cli('connections', 'list', '--user', 'bob', '--tenant', 'acme');
  expect(listed.status).toBe(0);
  expect(listed.stdout).toMatch(/^slack +active +as bob {2}scopes=chat:write,channels:read/m);
  expect(listed.stdout).not.toContain(oldToken);

  const revoked = await cli('connections', 'revoke', '--user', 'bob', '--app', 'slack', '--tenant', 'acme');
  expect(revoked).toMatchObject({ status: 0, stdout: expect.stringContaining("Revoked bob's slack connection: deleted from Baton and revoked at slack") });
  expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'bob', 'slack')).toBeUndefined();
  const probe = await fetch(`${gs.stack.sandbox.url}/slack/api/auth.test`, { method: 'POST', headers: { authorization: `Bearer ${oldToken}` } });
  expect(await probe.json()).toEqual({ ok: false, error: 'token_revoked' });
  const [record] = (await gs.stack.stores.audit.query({ kind: 'connection.revoked', app: 'slack' })).filter((entry) => entry.detail.targetSubject === 'bob');
  expect(record).toMatchObject({ outcome: 'ok', actor: { subject: expect.stringMatching(/^operator:/), authMethod: 'cli' }, detail: { revokedAtProvider: true } });
  expect(JSON.stringify(record)).not.toContain(oldToken);

  expect(await cli('connections', 'revoke', '--user', 'bob', '--app', 'slack', '--tenant', 'acme')).toMatchObject({
    status: 1,
    stderr: expect.stringContaining('bob (tenant acme) has no slack connection'),
  });
  expect(await cli('connections', 'revoke', '--user', 'bob')).toMatchObject({ status: 2, stderr: expect.stringContaining('usage: baton connections') });
}, 120_000);

test("bob sees only his own connections and cannot revoke alice's", async () => {
  const { vault } = gs.stack.stores;
  if (!(await vault.getConnectionInfo('acme', 'alice', 'slack'))) await gs.stack.consent(alice, 'slack');
  await vault.deleteConnection('acme', 'bob', 'slack');
  await gs.stack.consent(bob, 'github');
  const bobToken = await gs.tokenFor('bob');

  const listed = await api(bobToken, 'GET', '/api/connections');
  expect(listed.status).toBe(200);
  expect(listed.json.connections).toEqual([expect.objectContaining({ app: 'github', externalLogin: 'bob' })]);
  expect(JSON.stringify(listed.json)).not.toMatch(/ghu_|ghr_|xox|token/i);

  const refused = await api(bobToken, 'DELETE', '/api/connections/slack');
  expect(refused).toEqual({ status: 404, json: { error: 'not_found', message: 'bob has no slack connection.' } });
  expect(await vault.getConnectionInfo('acme', 'alice', 'slack')).toMatchObject({ status: 'active' });
  expect((await api(null, 'GET', '/api/connections')).status).toBe(401);
  expect((await api(null, 'DELETE', '/api/connections/slack')).status).toBe(401);
  expect(await vault.getConnectionInfo('acme', 'alice', 'slack')).toMatchObject({ status: 'active' });
}, 120_000);

test('an admin disables alice: her paused run is cancelled, her calls are refused with a clear 403, enabling lets her back', async () => {
  const { vault, audit } = gs.stack.stores;
  await vault.deleteConnection('acme', 'alice', 'github');
  const aliceToken = await gs.tokenFor('alice');
  const client = await gs.connect(aliceToken);
  const paused = structuredOf(await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } }));
  expect(paused).toMatchObject({ status: 'auth_required', authorizationUrls: { github: expect.any(String) } });
  await client.close();

  // Not an owner or admin: refused, and nothing changes.
  const bobToken = await gs.tokenFor('bob');
  const byViewer = await api(bobToken, 'POST', '/admin/users/alice/disable');
  expect(byViewer).toMatchObject({ status: 403, json: { error: 'forbidden', message: expect.stringContaining('Disabling users needs the owner or admin role; bob has the viewer role') } });
  expect((await api(bobToken, 'POST', '/admin/users/alice/enable')).status).toBe(403);
  expect((await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${aliceToken}` })).status).toBe(200);

  const carol = await carolToken();
  expect(await api(carol, 'POST', '/admin/users/alice/disable', { tenant: 'acme', bogus: 1 })).toMatchObject({ status: 400 });
  const disabled = await api(carol, 'POST', '/admin/users/alice/disable', { reason: 'left the company' });
  expect(disabled).toMatchObject({ status: 200, json: { tenant: 'acme', subject: 'alice', disabled: true, alreadyDisabled: false, failedRuns: [] } });
  expect(disabled.json.cancelledRuns).toContain(paused.runId);

  const handle = gs.stack.client.workflow.getHandle(paused.runId);
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  expect((await handle.describe()).status.name).toBe('CANCELLED');

  const refused = await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${aliceToken}` });
  expect(refused.status).toBe(403);
  expect(refused.json).toEqual({
    error: 'access_denied',
    error_description: expect.stringMatching(/^alice has been disabled by an administrator \(since .*\): left the company\. Baton refuses every call/),
  });
  expect((await api(aliceToken, 'GET', '/api/connections')).status).toBe(403);

  const [change] = (await audit.query({ kind: 'admin.change', subject: 'carol' })).filter((record) => record.action === 'user.disable');
  expect(change).toMatchObject({ outcome: 'ok', actor: { subject: 'carol' }, detail: { targetSubject: 'alice', targetTenant: 'acme', runsCancelled: disabled.json.cancelledRuns.length } });
  expect((await audit.query({ kind: 'access.denied', subject: 'alice' })).some((record) => record.detail.reason === 'user_disabled')).toBe(true);
  expect((await audit.query({ kind: 'access.denied', subject: 'bob' })).length).toBeGreaterThan(0);

  expect(await api(carol, 'POST', '/admin/users/alice/enable')).toEqual({ status: 200, json: { tenant: 'acme', subject: 'alice', disabled: false } });
  expect((await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${aliceToken}` })).status).toBe(200);
  expect(await api(carol, 'POST', '/admin/users/alice/enable')).toMatchObject({ status: 404 });
  expect((await audit.query({ kind: 'admin.change', subject: 'carol' })).some((record) => record.action === 'user.enable')).toBe(true);
}, 120_000);

/** Signs `user` in to Baton's own pages in `browser` and returns where the sign-in ended (status and page). */
async function signInToAccountPages(browser: CookieKeepingClient, user: 'alice' | 'bob'): Promise<{ status: number; text: string }> {
  const start = await browser.fetch(`${gs.url}/account/connections`);
  if (start.status === 200) return { status: 200, text: await start.text() };
  const callback = await approveConsentOverHttp(new URL(start.headers.get('location')!, gs.url).href, { username: user, password: user }, 'approve', browser);
  const finished = await browser.fetch(callback);
  if (finished.status !== 302) return { status: finished.status, text: await finished.text() };
  const page = await browser.fetch(new URL(finished.headers.get('location')!, gs.url));
  return { status: page.status, text: await page.text() };
}

test('an operator disables and enables a user with the CLI, cancelling their in-flight runs and ending their browser sessions', async () => {
  const browser = new CookieKeepingClient();
  expect((await signInToAccountPages(browser, 'bob')).status).toBe(200);
  await gs.stack.stores.vault.deleteConnection('acme', 'bob', 'github');
  const bobToken = await gs.tokenFor('bob');
  const client = await gs.connect(bobToken);
  const paused = structuredOf(await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } }));
  await client.close();

  const disabled = await cli('users', 'disable', 'bob', '--tenant', 'acme');
  expect(disabled).toMatchObject({ status: 0, stdout: expect.stringContaining('Disabled bob (tenant acme)') });
  expect(disabled.stdout).toContain(paused.runId);
  expect(
    await gs.stack.client.workflow
      .getHandle(paused.runId)
      .result()
      .catch((error: unknown) => error),
  ).toBeInstanceOf(WorkflowFailedError);
  expect((await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${bobToken}` })).status).toBe(403);
  expect((await cli('users', 'list')).stdout).toMatch(/^bob +tenant=acme {2}disabled=.* by operator:/m);
  // His pages are closed too: the session is gone, and signing in again is refused with the reason.
  expect((await browser.fetch(`${gs.url}/account/connections`)).status).toBe(302);
  const again = await signInToAccountPages(browser, 'bob');
  expect(again.status).toBe(403);
  expect(again.text).toContain('This account is disabled');
  expect(again.text).toContain('bob has been disabled by an administrator');

  expect(await cli('users', 'enable', 'bob', '--tenant', 'acme')).toMatchObject({ status: 0, stdout: expect.stringContaining('Enabled bob') });
  expect((await postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${bobToken}` })).status).toBe(200);
  expect(await cli('users', 'enable', 'bob', '--tenant', 'acme')).toMatchObject({ status: 1, stderr: expect.stringContaining('bob (tenant acme) is not disabled') });
}, 120_000);

test('when the app refuses the revocation, the secret is gone from Baton all the same and the failure is recorded', async () => {
  const { settings, stores } = gs.stack;
  await gs.stack.consent(bob, 'github');
  const github = settings.apps.get('github')!;
  // A deployment whose GitHub client secret was rotated at GitHub but not in Baton.
  const misconfigured = { ...settings, apps: new Map([...settings.apps, ['github', { ...github, client: { ...github.client!, clientSecret: 'stale-secret' } }]]) };
  const revocation = new ConnectionRevocation({ settings: misconfigured, stores, log: pino({ level: 'silent' }) });
  const result = await revocation.revoke({ tenant: 'acme', subject: 'bob' }, 'github', operatorActor('acme'));
  expect(result).toEqual({ revoked: true, revokedAtProvider: false, providerError: 'GitHub answered 401: Bad credentials' });
  expect(await stores.vault.getConnectionInfo('acme', 'bob', 'github')).toBeUndefined();
  const [record] = await stores.audit.query({ kind: 'connection.revoked', outcome: 'provider_failed' });
  expect(record).toMatchObject({ app: 'github', detail: { targetSubject: 'bob', revokedAtProvider: false, providerError: 'GitHub answered 401: Bad credentials' } });
  expect(await revocation.revoke({ tenant: 'acme', subject: 'bob' }, 'github', operatorActor('acme'))).toEqual({ revoked: false, revokedAtProvider: false, providerError: null });
}, 60_000);

test('no token, code or secret of any of this reached Temporal history', async () => {
  await expectNoSecretsInHistories(gs.stack);
});
