/**
 * Issue 15, the second security pass: each attack sent to a real stack (gateway process, worker, Temporal,
 * sandbox apps), asserting the refusal and that nothing reached an app or leaked.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadIdentityKeys } from '../core/identity/keys.ts';
import { metricsHandler } from '../core/metrics/metrics.ts';
import { loadVaultKey, loadVaultKeyring } from '../core/vault/key.ts';
import type { LoggedRequest, RunningSandbox } from '../sandbox/server.ts';
import { expireStaleConsentRequests } from '../gateway/consent/stale-requests.ts';
import { createLogger } from '../gateway/logger.ts';
import { consentPendingSignal, runStatusQuery } from '../workflows/protocol.ts';
import { callAnything } from './fixtures/probe-tools.ts';
import { gatewayStackForSuite, openToEveryone, type GatewayStack } from './support/gateway-stack.ts';
import { alice } from './support/identities.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), {
  config: (sandbox: RunningSandbox) => ({
    yaml: `${openToEveryone}roles:
  alice: owner
  root: { role: owner, global: true }
  dana: { role: owner, tenant: acme }
apps:
  crm_http:
    baseUrl: ${sandbox.url}/crm/api
    http:
      actions:
        getCustomer: { method: GET, path: "/v1/customers/{customerId}" }
    credential: { mode: none }
  crm:
    credential: { mode: none }
    headers:
      - { name: X-Forwarded-Token, from: caller_token, prefix: "Bearer " }
tools:
  crm_probe_passthrough:
    credentials: { crm: { mode: passthrough, trustedIssuers: [${sandbox.idpIssuer}] } }
`,
  }),
  // Attack 8's bounds, small enough to reach in a test.
  env: { BATON_SIGN_IN_RATE_LIMIT_PER_MINUTE: '5', BATON_RUN_WAITS_PER_MINUTE: '4' },
});

const requestsSince = async (seq: number) => ((await sandboxControl(gs.stack.sandbox.url, `/requests?since=${seq}`)) as { requests: LoggedRequest[] }).requests;

describe('attack 1: a token that opens Baton is never handed to an app', () => {
  test.each([
    ['passthrough trusting Baton’s own identity provider', 'crm_probe_passthrough', 'forward the caller’s own token to CRM'],
    ['a caller_token extra header', 'crm_probe_none', "send the caller's token (the X-Forwarded-Token header) to CRM"],
  ])(
    '%s: refused before any request, so the app has nothing to replay',
    async (_name, tool, how) => {
      const aliceToken = await gs.tokenFor('alice');
      // What the app would have received opens Baton as alice: that is the attack.
      expect((await fetch(`${gs.url}/api/connections`, { headers: { authorization: `Bearer ${aliceToken}` } })).status).toBe(200);
      const since = await lastLogSeq(gs.stack.sandbox.url);
      const client = await gs.connect(aliceToken);
      const result = await client.callTool({ name: tool, arguments: {} });
      await client.close();
      expect(result.isError).toBe(true);
      const text = JSON.stringify(result.content);
      expect(text).toContain(`Baton does not ${how}: alice's token was issued for Baton itself (${gs.mcpUrl})`);
      expect(text).toContain('token_exchange');
      const sent = await requestsSince(since);
      expect(sent.filter((request) => request.app === 'crm' && request.path.startsWith('/api/'))).toEqual([]);
      expect(JSON.stringify(sent)).not.toContain(aliceToken);
    },
    60_000,
  );
});

describe('attack 11: dot segments in path parameters', () => {
  test.each([
    ['GitHub pulls.get with owner ".."', 'github', 'pulls.get', { owner: '..', repo: 'admin', pull_number: 1 }, '..'],
    ['GitHub issues.createComment with repo "."', 'github', 'issues.createComment', { owner: 'acme', repo: '.', issue_number: 1, body: 'hi' }, '.'],
    ['Jira issues.get with key ".."', 'jira', 'issues.get', { issueIdOrKey: '..' }, '..'],
    ['a declared HTTP action with a customer id ".."', 'crm_http', 'getCustomer', { customerId: '..' }, '..'],
  ])(
    '%s is bad input: refused before any request, not retried',
    async (_name, app, action, input, segment) => {
      const since = await lastLogSeq(gs.stack.sandbox.url);
      const handle = await gs.stack.run(alice, callAnything, { app, action, input });
      await expect(handle.result()).rejects.toThrow();
      const status = await handle.query<{ error: { type: string; message: string } }>('baton.status');
      expect(status.error.type).toBe('InvalidActionInput');
      expect(status.error.message).toContain(`a path segment of the request would be "${segment}"`);
      expect((await requestsSince(since)).filter((request) => request.app === app || (app === 'crm_http' && request.app === 'crm'))).toEqual([]);
    },
    60_000,
  );

  test('names that merely contain dots still go through, to the path asked for', async () => {
    const since = await lastLogSeq(gs.stack.sandbox.url);
    const handle = await gs.stack.run(alice, callAnything, { app: 'crm_http', action: 'getCustomer', input: { customerId: 'cus.1001..x' } });
    await handle.result().catch(() => undefined); // the CRM wants a credential this app does not send; what matters is where the request went
    expect((await requestsSince(since)).map((request) => [request.method, request.path])).toEqual([['GET', '/api/v1/customers/cus.1001..x']]);
  }, 60_000);
});

describe('attack 9: no stack traces to strangers', () => {
  const noInternals = (text: string) => {
    expect(text).not.toMatch(/\bat \S+ \(|node_modules|\/work\/|<pre>|SyntaxError/);
  };

  test('malformed JSON to an admin route before authentication: 401 as JSON, the body never parsed', async () => {
    for (const path of ['/admin/servers/default/access', '/admin/users/bob/disable']) {
      const response = await fetch(`${gs.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"users": [' });
      const text = await response.text();
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/json/);
      noInternals(text);
    }
  });

  test('malformed JSON from an authenticated owner: 400 as JSON, without internals', async () => {
    const response = await fetch(`${gs.url}/admin/users/bob/disable`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await gs.tokenFor('alice')}` },
      body: '{"reason": ',
    });
    const text = await response.text();
    expect({ status: response.status, body: JSON.parse(text) as unknown }).toEqual({ status: 400, body: { error: 'invalid_request', message: 'The body is not valid JSON.' } });
    noInternals(text);
  });

  test('/metrics without a token: this machine only; a caller from another address is refused', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
    // The same handler the gateway and the worker serve, on every interface, reached from loopback and from this host's other address.
    const handle = metricsHandler(new Registry(), undefined);
    const server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      if (!external) throw new Error('this test needs a non-loopback IPv4 address on the machine');
      const remote = await fetch(`http://${external}:${port}/metrics`);
      expect({ status: remote.status, text: await remote.text() }).toEqual({ status: 403, text: expect.stringContaining('set BATON_METRICS_TOKEN') });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('attack 10: no development key files in production', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'baton-prod-keys-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['NODE_ENV=production', { NODE_ENV: 'production' }, 'NODE_ENV=production'],
    ['BATON_PRODUCTION=true', { BATON_PRODUCTION: 'true' }, 'BATON_PRODUCTION=true'],
  ])('%s: the vault, audit and identity keys must come from the environment; no key file is read or made', async (_name, env, why) => {
    const file = (name: string) => join(dir, `${why}-${name}`);
    expect(() => loadVaultKeyring({ env, devKeyFile: file('vault.key') })).toThrow(
      `BATON_VAULT_KEY is not set, and in production (${why}) Baton does not use the development key file ${file('vault.key')}`,
    );
    expect(() => loadVaultKey({ env, devKeyFile: file('audit.key'), variable: 'BATON_AUDIT_KEY' })).toThrow(`BATON_AUDIT_KEY is not set, and in production (${why})`);
    await expect(loadIdentityKeys({ env, devKeyFile: file('identity.json') })).rejects.toThrow(
      `BATON_IDENTITY_PRIVATE_JWK (gateway) and BATON_IDENTITY_JWKS (workers) is not set, and in production (${why})`,
    );
    for (const name of ['vault.key', 'audit.key', 'identity.json']) expect(existsSync(file(name))).toBe(false);
    // Keys from the environment are fine in production.
    expect(loadVaultKey({ env: { ...env, BATON_AUDIT_KEY: randomBytes(32).toString('base64') }, devKeyFile: file('audit.key'), variable: 'BATON_AUDIT_KEY' }).source).toBe('env');
  });

  test('in development the key files are made on first use, as before', () => {
    loadVaultKey({ env: {}, devKeyFile: join(dir, 'dev-audit.key'), variable: 'BATON_AUDIT_KEY' });
    expect(existsSync(join(dir, 'dev-audit.key'))).toBe(true);
  });
});

/** An audit record of a user of tenant globex, for the tenant-scoping tests to find (or not). */
const recordOfGlobexUser = (subject: string) =>
  gs.stack.stores.audit.record({
    kind: 'access.denied',
    outcome: 'denied',
    actor: { tenant: 'globex', subject, email: null, name: null, authMethod: 'oauth' },
    action: 'probe',
    message: `a record of ${subject}, tenant globex`,
  });

describe('attack 7: an owner or admin acts within their own tenant unless their role is global', () => {
  test('audit records, disabling users and the disabled list stop at the tenant; a global owner reaches across', async () => {
    await recordOfGlobexUser('carol');
    const alice = await gs.tokenFor('alice'); // owner in tenant acme
    const root = await gs.tokenSignedFor('root', { tenant: 'acme' }); // owner, global
    const audit = (token: string, query: string) => fetch(`${gs.url}/api/audit${query}`, { headers: { authorization: `Bearer ${token}` } });
    const tenantsIn = async (response: Response) => new Set(((await response.json()) as { records: Array<{ actor: { tenant: string } }> }).records.map((record) => record.actor.tenant));

    expect(await tenantsIn(await audit(alice, '?limit=500'))).toEqual(new Set(['acme']));
    const refused = await audit(alice, '?tenant=globex');
    expect({ status: refused.status, body: await refused.json() }).toEqual({
      status: 403,
      body: { error: 'forbidden', message: "Your role reads tenant acme's records only; tenant globex's need a global role." },
    });
    expect(await tenantsIn(await audit(root, '?tenant=globex'))).toEqual(new Set(['globex']));

    const disable = (token: string) =>
      fetch(`${gs.url}/admin/users/carol/disable`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant: 'globex', reason: 'test' }),
      });
    const notHers = await disable(alice);
    expect(notHers.status).toBe(403);
    expect(((await notHers.json()) as { message: string }).message).toContain("acting on tenant globex's users needs a global role");
    const disabledList = async (token: string) =>
      ((await (await fetch(`${gs.url}/admin/users/disabled`, { headers: { authorization: `Bearer ${token}` } })).json()) as { disabledUsers: Array<{ tenant: string; subject: string }> })
        .disabledUsers;
    expect((await disabledList(root)).some((user) => user.subject === 'carol')).toBe(false); // nothing changed
    expect((await disable(root)).status).toBe(200);
    expect((await disabledList(root)).some((user) => user.tenant === 'globex' && user.subject === 'carol')).toBe(true);
    expect((await disabledList(alice)).some((user) => user.tenant === 'globex')).toBe(false);
  });
});

describe('attack 7: a role keyed on the tenant too', () => {
  test('dana is owner in acme only: signed in under globex, the same user reads only her own records', async () => {
    const records = async (token: string) => {
      const response = await fetch(`${gs.url}/api/audit?limit=500`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      return ((await response.json()) as { records: Array<{ actor: { tenant: string; subject: string } }> }).records;
    };
    await recordOfGlobexUser('erin');
    const inAcme = await records(await gs.tokenSignedFor('dana', { tenant: 'acme' }));
    expect(inAcme.some((record) => record.actor.subject !== 'dana')).toBe(true); // owner: everyone's in acme
    const inGlobex = await records(await gs.tokenSignedFor('dana', { tenant: 'globex' }));
    expect(inGlobex.filter((record) => !(record.actor.tenant === 'globex' && record.actor.subject === 'dana'))).toEqual([]); // a member there
    expect(await gs.stack.stores.audit.query({ tenant: 'globex', subject: 'erin' })).not.toEqual([]); // there was someone else's to see
  });
});

describe('attack 4: a consent prompt a run reports is shown only if Baton recorded it', () => {
  test('a forged baton.consentPending (attacker text, made-up request) never reaches the user; the genuine link still does', async () => {
    const carol = await gs.tokenSignedFor('carol', { tenant: 'signals' }); // nothing connected
    const client = await gs.connect(carol);
    const first = await client.callTool({ name: 'call_anything', arguments: { app: 'github', action: 'pulls.get', input: { owner: 'acme', repo: 'widgets', pull_number: 1 } } });
    const asked = first.structuredContent as { status: string; runId: string; authorizationUrls: Record<string, string> };
    expect(asked.status).toBe('auth_required');
    const handle = gs.stack.client.workflow.getHandle(asked.runId);
    const forged = {
      consentId: 'forged-request',
      app: 'slack',
      appName: 'Slack (URGENT: sign in at evil.example first)',
      scopes: [],
      reason: 'never_connected' as const,
      message: 'URGENT: sign in at evil.example',
      waitingWorkflowId: asked.runId,
    };
    await handle.signal(consentPendingSignal, forged);
    // The run takes the report (Temporal does not say who sent a signal)…
    const deadline = Date.now() + 20_000;
    while (!(await handle.query(runStatusQuery)).pending.some((consent) => consent.consentId === forged.consentId)) {
      if (Date.now() > deadline) throw new Error('the run never took the signal');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // …but the gateway shows only requests it holds for this user's run: the genuine link, and nothing of the attacker's.
    const again = await client.callTool({ name: 'get_run_result', arguments: { runId: asked.runId } });
    await client.close();
    expect((again.structuredContent as { authorizationUrls: Record<string, string> }).authorizationUrls).toEqual(asked.authorizationUrls);
    expect(JSON.stringify(again)).not.toMatch(/evil\.example|forged-request/);
    expect(await gs.stack.stores.consents.get(forged.consentId)).toBeUndefined();
  }, 60_000);
});

describe('attack 8: cheap requests that cost a lot are bounded', () => {
  /** A normal call, to show the gateway still answers as usual after each burst. */
  const normalCall = async () => {
    const client = await gs.connect(await gs.tokenFor('alice'));
    const started = performance.now();
    const { tools } = await client.listTools();
    const ms = performance.now() - started;
    await client.close();
    expect(tools.length).toBeGreaterThan(0);
    expect(ms).toBeLessThan(2_000);
  };
  const rowsOf = async (table: string) => (await gs.stack.stores.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n;

  test('anonymous visits to consent links start at most 5 sign-ins a minute from one address; the rest are 429 and write nothing', async () => {
    const before = await rowsOf('browser_sign_ins');
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await fetch(`${gs.url}/connect/${randomBytes(8).toString('hex')}`, { redirect: 'manual' });
      statuses.push(answer.status);
      if (answer.status === 429) expect(await answer.text()).toBe('Too many sign-ins started from your address: at most 5 a minute. Wait a minute, then open the link again.');
    }
    expect(statuses).toEqual([...Array<number>(5).fill(302), ...Array<number>(15).fill(429)]);
    expect((await rowsOf('browser_sign_ins')) - before).toBe(5);
    await normalCall();
  });

  test('/readyz: a burst of 30 probes runs the checks once, every answer saying when', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => fetch(`${gs.url}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { checkedAt: string } }))));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(new Set(answers.map((answer) => answer.body.checkedAt)).size).toBe(1);
    await normalCall();
  });

  test('get_run_result in a loop: at most 4 update waits a minute reach the run (its history stays bounded); every answer is still right', async () => {
    const client = await gs.connect(await gs.tokenSignedFor('frank', { tenant: 'polling' })); // nothing connected
    const first = await client.callTool({ name: 'call_anything', arguments: { app: 'github', action: 'pulls.get', input: { owner: 'acme', repo: 'widgets', pull_number: 1 } } });
    const asked = first.structuredContent as { status: string; runId: string; authorizationUrls: Record<string, string> };
    expect(asked.status).toBe('auth_required');
    const handle = gs.stack.client.workflow.getHandle(asked.runId);
    const updatesIn = async () => ((await handle.fetchHistory()).events ?? []).filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length;
    const before = await updatesIn();
    for (let i = 0; i < 30; i++) {
      const again = await client.callTool({ name: 'get_run_result', arguments: { runId: asked.runId } });
      expect(again.structuredContent).toMatchObject({ status: 'auth_required', runId: asked.runId, authorizationUrls: asked.authorizationUrls });
    }
    await client.close();
    expect((await updatesIn()) - before).toBeLessThanOrEqual(4);
    await normalCall();
  }, 60_000);

  test('/api/runs lists at most 50 runs (each costs a Temporal describe): limit=200 is refused, saying the bound', async () => {
    const answer = await fetch(`${gs.url}/api/runs?limit=200`, { headers: { authorization: `Bearer ${await gs.tokenFor('alice')}` } });
    expect({ status: answer.status, body: await answer.json() }).toEqual({ status: 400, body: { error: 'invalid_request', message: 'The only parameter is limit (1–50).' } });
  });

  test('consent requests nobody finished expire after their time to live', async () => {
    const { consents, db } = gs.stack.stores;
    const request = { tenant: 'sweep', subject: 'gina', app: 'github', scopes: [], reason: 'never_connected', rootWorkflowId: 'run-x', waitingWorkflowId: 'run-x' };
    await consents.record({ ...request, id: 'stale-request' });
    await consents.record({ ...request, id: 'fresh-request' });
    await db.run('UPDATE consent_requests SET created_at = ? WHERE id = ?', Date.now() - 2 * 3600_000, 'stale-request');
    const sweeper = expireStaleConsentRequests({ consents, ttlMs: 3600_000, log: createLogger({ level: 'silent' }) });
    try {
      const deadline = Date.now() + 10_000;
      while ((await consents.get('stale-request'))?.status === 'pending' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      sweeper.stop();
    }
    expect((await consents.get('stale-request'))?.status).toBe('expired');
    expect((await consents.get('fresh-request'))?.status).toBe('pending');
  });
});
