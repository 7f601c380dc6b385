/**
 * Issue 11, must-show: on PostgreSQL a store call that waits on the database holds up its own request and
 * nothing else. A real `baton gateway` process on a PostgreSQL database; the test holds a row lock from a
 * connection of its own (as an operator's long transaction on that row would), so one request's UPDATE
 * waits on it inside PostgreSQL. Meanwhile the same gateway process answers `/healthz`, `/readyz` (which
 * queries the database through the same pool) and a signed-in user's `/api/runs`; the waiting request is
 * still waiting after all of them, and completes once the lock is released.
 *
 * The held statement is the API token's `last_used_at` touch in bearer authentication: a token's first use
 * writes its row. Every wait is on something observable (pg_stat_activity, responses), never a fixed sleep.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ApiTokenStore } from '../core/api-tokens/api-token-store.ts';
import { signInOverHttp } from '../sandbox/idp/headless-login.ts';
import { cliClient } from '../sandbox/server.ts';
import { freePort } from '../scripts/free-port.ts';
import { BatonProcess } from './support/gateway-process.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { Stack } from './support/stack.ts';
import { until } from './support/until.ts';

const openToEveryone = `servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
`;

let database: TestDatabase;
let stack: Stack;
let gateway: BatonProcess;
let gatewayUrl: string;
/** The test's own connections: one holds the lock, one watches pg_stat_activity. */
let locker: pg.Client;
let watcher: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase('responsiveness');
  gatewayUrl = `http://127.0.0.1:${await freePort()}`;
  const browserClient = { clientId: 'baton-gateway', clientSecret: randomBytes(24).toString('base64url') };
  stack = await Stack.start({
    publicUrl: gatewayUrl,
    idp: { clients: { baton: { ...browserClient, redirectUris: [`${gatewayUrl}/auth/callback`] } } },
    config: () => ({
      yaml: openToEveryone,
      env: { BATON_DATABASE_URL: database.url, BATON_IDP_CLIENT_ID: browserClient.clientId, BATON_IDP_CLIENT_SECRET: browserClient.clientSecret },
    }),
  });
  gateway = new BatonProcess({
    ...stack.workerEnv,
    PORT: new URL(gatewayUrl).port,
    BATON_IDP_ISSUER: stack.sandbox.idpIssuer,
    BATON_IDP_CLIENT_ID: browserClient.clientId,
    BATON_IDP_CLIENT_SECRET: browserClient.clientSecret,
    BATON_IDENTITY_PRIVATE_JWK: JSON.stringify(stack.identityKey),
    NODE_NO_WARNINGS: '1',
  });
  await gateway.start();
  locker = new pg.Client({ connectionString: database.url, application_name: 'test-locker' });
  watcher = new pg.Client({ connectionString: database.url, application_name: 'test-watcher' });
  await Promise.all([locker.connect(), watcher.connect()]);
}, 150_000);

afterAll(async () => {
  await locker?.end().catch(() => undefined);
  await watcher?.end().catch(() => undefined);
  await gateway?.kill();
  await stack?.close();
  await database?.drop();
});

/** The gateway's statements now waiting for a lock in PostgreSQL that touch the api_tokens table. */
async function waitingOnTokenRow(): Promise<string[]> {
  const { rows } = await watcher.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'baton' AND wait_event_type = 'Lock' AND query LIKE 'UPDATE api_tokens SET last_used_at%'`,
  );
  return rows.map((row) => row.query);
}

test('while one request waits on a locked row, the same gateway process answers /healthz and other requests', async () => {
  const { id, token } = await new ApiTokenStore(stack.stores.db).create('held-bot', { tenant: 'acme' });
  const alice = await signInOverHttp({
    issuer: stack.sandbox.idpIssuer,
    clientId: cliClient.clientId,
    redirectUri: cliClient.redirectUri,
    resource: `${gatewayUrl}/mcp`,
    scope: 'openid profile email mcp:tools',
    username: 'alice',
    password: 'alice',
  });

  // Someone else's transaction holds the token's row (and keeps it until the test lets go).
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM api_tokens WHERE id = $1 FOR UPDATE', [id]);
  let released = false;
  try {
    // The token's first use writes last_used_at: that UPDATE waits for the row inside PostgreSQL.
    let settled = false;
    const held = fetch(`${gatewayUrl}/api/connections`, { headers: { authorization: `Bearer ${token}` } })
      .then(async (response) => ({ status: response.status, body: (await response.json()) as unknown }))
      .finally(() => (settled = true));
    held.catch(() => undefined); // awaited below; kept from counting as unhandled while the others run
    const waiting = await until('the gateway to wait on the locked api_tokens row', async () => (await waitingOnTokenRow())[0], 30_000);
    expect(waiting).toMatch(/^UPDATE api_tokens SET last_used_at/);

    // The same process answers meanwhile: liveness, readiness (a query on the same pool), a signed-in user's API.
    const health = await fetch(`${gatewayUrl}/healthz`);
    expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await fetch(`${gatewayUrl}/readyz`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({
      status: 200,
      body: { status: 'ready', checks: { temporal: 'ok', database: 'ok', jwks: 'ok' }, checkedAt: expect.any(String) },
    });
    const runs = await fetch(`${gatewayUrl}/api/runs`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect({ status: runs.status, body: await runs.json() }).toEqual({ status: 200, body: { runs: [] } });

    // …and all that while the held request was still waiting in PostgreSQL, unanswered.
    expect(await waitingOnTokenRow()).toHaveLength(1);
    expect(settled).toBe(false);

    // Let go of the row: the held request goes through.
    await locker.query('ROLLBACK');
    released = true;
    expect(await held).toEqual({ status: 200, body: { connections: [] } });
    expect(await waitingOnTokenRow()).toEqual([]);
    const [row] = (await watcher.query<{ last_used_at: string | null }>('SELECT last_used_at FROM api_tokens WHERE id = $1', [id])).rows;
    expect(row?.last_used_at).not.toBeNull();
  } finally {
    if (!released) await locker.query('ROLLBACK');
  }
}, 60_000);
