import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlDatabase } from '../core/db.ts';
import { ConnectionUnavailableError, loadVaultKey, RefreshRejectedError, Vault, type PutConnectionInput, type RefreshedTokens, type VaultKey } from '../core/vault/index.ts';
import { storageBackends } from './support/storage-backends.ts';

const ALICE = { tenant: 'acme', subject: 'alice', app: 'github' } as const;

let dir: string;
/** Points a child process at the test's database (BATON_DB or BATON_DATABASE_URL). */
let databaseEnv: Record<string, string>;
let db: SqlDatabase;
let keyText: string;
let key: VaultKey;
let vault: Vault;

function connectAlice(target: Vault, overrides: Partial<PutConnectionInput> = {}) {
  return target.putConnection({
    ...ALICE,
    accessToken: 'access-0',
    refreshToken: 'refresh-0',
    expiresAt: Date.now() - 1000,
    scopes: ['repo'],
    externalAccountId: '42',
    externalLogin: 'alice-gh',
    ...overrides,
  });
}

/** A refresher that counts calls, remembers the refresh tokens it was given and takes `delayMs` like a real token endpoint. */
function countingRefresher(
  delayMs = 50,
  tokens: (call: number) => RefreshedTokens = (call) => ({
    accessToken: `access-${call}`,
    refreshToken: `refresh-${call}`,
    expiresAt: Date.now() + 3_600_000,
  }),
) {
  const received: string[] = [];
  const refresh = async (refreshToken: string): Promise<RefreshedTokens> => {
    received.push(refreshToken);
    const call = received.length;
    await sleep(delayMs);
    return tokens(call);
  };
  return { refresh, received };
}

const never = async (): Promise<never> => {
  throw new Error('refresher must not be called');
};

async function rawRow() {
  return (await db.get<Record<string, unknown>>("SELECT * FROM vault_connections WHERE subject = 'alice'"))!;
}

describe.each(storageBackends('vault_refresh'))('resolveUserAccessToken refresh on $name', (backend) => {
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  beforeEach(async () => {
    await backend.fresh();
    dir = mkdtempSync(join(tmpdir(), 'baton-vault-refresh-'));
    databaseEnv = backend.env();
    db = await backend.open();
    keyText = randomBytes(32).toString('base64');
    key = loadVaultKey({ env: { BATON_VAULT_KEY: keyText } });
    vault = await Vault.open(db, key);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a token that lives shorter than the margin is not refreshed on every call', async () => {
    let clock = 10_000_000;
    const timed = await Vault.open(db, key, { now: () => clock });
    await connectAlice(timed, { expiresAt: clock + 30_000 });
    expect((await timed.resolveUserAccessToken({ ...ALICE, refresh: never })).accessToken).toBe('access-0');
    clock += 14_000;
    expect((await timed.resolveUserAccessToken({ ...ALICE, refresh: never })).accessToken).toBe('access-0');
    clock += 2_000; // now under half its lifetime left: refreshed
    const { refresh, received } = countingRefresher(0, (call) => ({ accessToken: `access-${call}`, expiresAt: clock + 30_000 }));
    expect((await timed.resolveUserAccessToken({ ...ALICE, refresh })).accessToken).toBe('access-1');
    expect(received).toHaveLength(1);
  });

  test('refreshes a token expiring within the margin and stores the rotated refresh token', async () => {
    let clock = 10_000_000;
    const timed = await Vault.open(db, key, { now: () => clock });
    await connectAlice(timed, { expiresAt: clock + 30_000 });
    clock += 20_000; // 10 s left: inside the margin (60 s, capped at half the token's 30 s lifetime)
    const { refresh, received } = countingRefresher(0, (call) => ({
      accessToken: `access-${call}`,
      refreshToken: call === 1 ? 'refresh-1' : undefined, // the second refresh rotates nothing
      expiresAt: clock + 3_600_000,
      scopes: call === 1 ? ['repo', 'read:org'] : undefined,
    }));

    const first = await timed.resolveUserAccessToken({ ...ALICE, refresh });
    expect(first.accessToken).toBe('access-1');
    expect(received).toEqual(['refresh-0']);
    expect(first.info).toMatchObject({ version: 2, expiresAt: clock + 3_600_000, scopes: ['repo', 'read:org'], updatedAt: clock, lastUsedAt: clock });
    expect(await rawRow()).toMatchObject({ refresh_lease_owner: null, refresh_lease_until: null });

    // Still fresh: served from the vault.
    expect((await timed.resolveUserAccessToken({ ...ALICE, refresh: never })).accessToken).toBe('access-1');

    clock += 3_600_000 - 10_000;
    const second = await timed.resolveUserAccessToken({ ...ALICE, refresh });
    expect(received).toEqual(['refresh-0', 'refresh-1']); // the rotated token was the one stored
    expect(second.accessToken).toBe('access-2');
    expect(second.info).toMatchObject({ version: 3, scopes: ['repo', 'read:org'] }); // scopes kept when none returned

    clock += 3_600_000;
    await timed.resolveUserAccessToken({ ...ALICE, refresh });
    expect(received).toEqual(['refresh-0', 'refresh-1', 'refresh-1']); // none returned: the old one stays
  });

  test('a marginMs of 0 uses a token until it actually expires', async () => {
    await connectAlice(vault, { expiresAt: Date.now() + 5000 });
    expect((await vault.resolveUserAccessToken({ ...ALICE, refresh: never, marginMs: 0 })).accessToken).toBe('access-0');
  });

  test('20 concurrent resolves in one process cause exactly one refresher call', async () => {
    await connectAlice(vault);
    const { refresh, received } = countingRefresher(100);
    const results = await Promise.all(Array.from({ length: 20 }, () => vault.resolveUserAccessToken({ ...ALICE, refresh })));
    expect(received).toEqual(['refresh-0']);
    expect(new Set(results.map((result) => result.accessToken))).toEqual(new Set(['access-1']));
    expect((await vault.getConnectionInfo('acme', 'alice', 'github'))!.version).toBe(2);
  });

  test('two vaults on separate database connections share one refresh through the row lease', async () => {
    await connectAlice(vault);
    const otherDb = await backend.open();
    try {
      const other = await Vault.open(otherDb, key);
      const { refresh, received } = countingRefresher(200);
      const results = await Promise.all([
        vault.resolveUserAccessToken({ ...ALICE, refresh }),
        other.resolveUserAccessToken({ ...ALICE, refresh }),
        vault.resolveUserAccessToken({ ...ALICE, refresh }),
        other.resolveUserAccessToken({ ...ALICE, refresh }),
      ]);
      expect(received).toEqual(['refresh-0']);
      expect(results.map((result) => result.accessToken)).toEqual(['access-1', 'access-1', 'access-1', 'access-1']);
    } finally {
      await otherDb.close();
    }
  });

  test('a lease left behind by a crashed process is taken over once it has expired', async () => {
    await connectAlice(vault);
    await db.run("UPDATE vault_connections SET refresh_lease_owner = 'crashed', refresh_lease_until = ? WHERE subject = 'alice'", Date.now() - 1);
    const { refresh, received } = countingRefresher(0);
    expect((await vault.resolveUserAccessToken({ ...ALICE, refresh })).accessToken).toBe('access-1');
    expect(received).toEqual(['refresh-0']);
    expect(await rawRow()).toMatchObject({ refresh_lease_owner: null, refresh_lease_until: null });
  });

  test('a waiter whose lease holder goes silent refreshes itself once the lease runs out', async () => {
    await connectAlice(vault);
    const started = Date.now();
    await db.run("UPDATE vault_connections SET refresh_lease_owner = 'slow', refresh_lease_until = ? WHERE subject = 'alice'", started + 300);
    const { refresh, received } = countingRefresher(0);
    expect((await vault.resolveUserAccessToken({ ...ALICE, refresh })).accessToken).toBe('access-1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(received).toEqual(['refresh-0']);
  });

  test('a waiter picks up what the lease holder stored without calling its own refresher', async () => {
    await connectAlice(vault);
    await db.run("UPDATE vault_connections SET refresh_lease_owner = 'other', refresh_lease_until = ? WHERE subject = 'alice'", Date.now() + 10_000);
    const otherDb = await backend.open();
    try {
      const other = await Vault.open(otherDb, key);
      let reconnected: Promise<unknown> = Promise.resolve();
      setTimeout(() => {
        reconnected = connectAlice(other, { accessToken: 'access-from-other', expiresAt: Date.now() + 3_600_000 });
      }, 150);
      const resolved = await vault.resolveUserAccessToken({ ...ALICE, refresh: never });
      await reconnected;
      expect(resolved.accessToken).toBe('access-from-other');
    } finally {
      await otherDb.close();
    }
  });

  test('a reconnect during a refresh wins over the refresh result', async () => {
    await connectAlice(vault);
    const refresh = async (): Promise<RefreshedTokens> => {
      await connectAlice(vault, { accessToken: 'access-reconnected', refreshToken: 'refresh-reconnected', expiresAt: Date.now() + 3_600_000 });
      return { accessToken: 'access-stale', refreshToken: 'refresh-stale', expiresAt: Date.now() + 3_600_000 };
    };
    expect((await vault.resolveUserAccessToken({ ...ALICE, refresh })).accessToken).toBe('access-reconnected');
    expect((await vault.getConnectionInfo('acme', 'alice', 'github'))!.version).toBe(2);
  });

  test('a rejected refresh token marks the connection for reconsent and stops further refreshes', async () => {
    await connectAlice(vault);
    let calls = 0;
    const rejecting = async (): Promise<never> => {
      calls += 1;
      await sleep(20);
      throw new RefreshRejectedError('invalid_grant: the refresh token was revoked');
    };
    const attempts = await Promise.allSettled(Array.from({ length: 5 }, () => vault.resolveUserAccessToken({ ...ALICE, refresh: rejecting })));
    expect(calls).toBe(1);
    for (const attempt of attempts) {
      expect(attempt.status).toBe('rejected');
      const error = (attempt as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(ConnectionUnavailableError);
      expect(error).toMatchObject({ reason: 'refresh_failed', app: 'github', message: expect.stringContaining('reconnect github') });
    }
    expect(await vault.getConnectionInfo('acme', 'alice', 'github')).toMatchObject({ status: 'needs_reconsent', statusReason: 'refresh_failed', version: 2 });
    expect(await rawRow()).toMatchObject({ refresh_lease_owner: null, refresh_lease_until: null });

    await expect(vault.resolveUserAccessToken({ ...ALICE, refresh: rejecting })).rejects.toMatchObject({ reason: 'refresh_failed' });
    expect(calls).toBe(1);
  });

  test('a transient refresher error propagates unchanged and leaves the row untouched', async () => {
    await connectAlice(vault);
    const before = await rawRow();
    const transient = new Error('ECONNRESET talking to github');
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls += 1;
      await sleep(20);
      throw transient;
    };
    const attempts = await Promise.allSettled([1, 2, 3].map(() => vault.resolveUserAccessToken({ ...ALICE, refresh: failing })));
    expect(calls).toBe(1);
    for (const attempt of attempts) expect((attempt as PromiseRejectedResult).reason).toBe(transient);
    expect(await rawRow()).toEqual(before);

    // The caller's retry refreshes normally.
    const { refresh, received } = countingRefresher(0);
    expect((await vault.resolveUserAccessToken({ ...ALICE, refresh })).accessToken).toBe('access-1');
    expect(received).toEqual(['refresh-0']);
  });

  test('across processes sharing the database only one refresh happens', async () => {
    await connectAlice(vault);
    const callsFile = join(dir, 'refresh-calls.log');
    writeFileSync(callsFile, '');
    const script = join(dir, 'resolve-child.mjs');
    writeFileSync(script, childScript());

    const children = ['child-1', 'child-2', 'child-3'].map((label) => startChild(script, label, callsFile));
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.go();
    const started = Date.now();
    const own = await vault.resolveUserAccessToken({ ...ALICE, refresh: recordingRefresher(callsFile, 'parent') });
    const results = [{ accessToken: own.accessToken, elapsedMs: Date.now() - started }, ...(await Promise.all(children.map((child) => child.result)))];
    const tokens = results.map((result) => result.accessToken);
    // Everyone overlapped with the one 1 s refresh rather than arriving after it.
    for (const result of results) expect(result.elapsedMs).toBeGreaterThanOrEqual(100);

    const calls = readFileSync(callsFile, 'utf8').trim().split('\n');
    expect(calls).toHaveLength(1);
    const [refresher, usedRefreshToken] = calls[0]!.split(' ');
    expect(usedRefreshToken).toBe('refresh-0');
    expect(tokens).toEqual(Array(4).fill(`access-from-${refresher}`));

    const info = (await vault.getConnectionInfo('acme', 'alice', 'github'))!;
    expect(info.version).toBe(2);
    expect(await rawRow()).toMatchObject({ refresh_lease_owner: null, refresh_lease_until: null });
    // The rotated refresh token from that one call is what the next refresh uses.
    await db.run("UPDATE vault_connections SET expires_at = 0 WHERE subject = 'alice'");
    const { refresh, received } = countingRefresher(0);
    await vault.resolveUserAccessToken({ ...ALICE, refresh });
    expect(received).toEqual([`refresh-from-${refresher}`]);
  }, 30_000);
});

/** Same behaviour as the child script's refresher: one line per call, then 1 s "at the token endpoint". */
function recordingRefresher(callsFile: string, label: string) {
  return async (refreshToken: string): Promise<RefreshedTokens> => {
    appendFileSync(callsFile, `${label} ${refreshToken}\n`);
    await sleep(1000);
    return { accessToken: `access-from-${label}`, refreshToken: `refresh-from-${label}`, expiresAt: Date.now() + 3_600_000 };
  };
}

function childScript(): string {
  const dbModule = new URL('../core/db.ts', import.meta.url).href;
  const vaultModule = new URL('../core/vault/index.ts', import.meta.url).href;
  return `
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from ${JSON.stringify(dbModule)};
import { loadVaultKey, Vault } from ${JSON.stringify(vaultModule)};

const [callsFile, label] = process.argv.slice(2);
// The database the parent's backend names: BATON_DATABASE_URL (PostgreSQL) or BATON_DB (SQLite).
const db = await openDatabase({ databasePath: process.env.BATON_DB, databaseUrl: process.env.BATON_DATABASE_URL });
const vault = await Vault.open(db, loadVaultKey({ env: process.env }));
const refresh = async (refreshToken) => {
  appendFileSync(callsFile, label + ' ' + refreshToken + '\\n');
  await sleep(1000);
  return { accessToken: 'access-from-' + label, refreshToken: 'refresh-from-' + label, expiresAt: Date.now() + 3_600_000 };
};
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy();
const started = Date.now();
const resolved = await vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh });
process.stdout.write(JSON.stringify({ accessToken: resolved.accessToken, elapsedMs: Date.now() - started }) + '\\n');
await db.close();
`;
}

function startChild(script: string, label: string, callsFile: string) {
  const { NODE_OPTIONS: _jestOnly, BATON_DB: _db, BATON_DATABASE_URL: _url, ...env } = process.env;
  const child = spawn(process.execPath, [script, callsFile, label], {
    env: { ...env, ...databaseEnv, BATON_VAULT_KEY: keyText },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.startsWith('ready\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`${label} exited before it was ready: ${stderr}`)));
  });
  const result = new Promise<{ accessToken: string; elapsedMs: number }>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${label} exited with ${code}: ${stderr}`));
      resolve(JSON.parse(stdout.slice('ready\n'.length)) as { accessToken: string; elapsedMs: number });
    });
  });
  // Awaited by the test only once the child is ready; a failure before that surfaces through `ready`.
  result.catch(() => undefined);
  return { ready, result, go: () => child.stdin.write('go\n') };
}
