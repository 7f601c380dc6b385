import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDatabase } from '../core/db.ts';
import { ConnectionUnavailableError, loadVaultKey, seal, unseal, Vault, VaultCorruptError, VaultKeyError, VaultKeyMismatchError, type VaultKey } from '../core/vault/index.ts';
import { storageBackends } from './support/storage-backends.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-vault-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function newKey(): VaultKey {
  return loadVaultKey({ env: { BATON_VAULT_KEY: randomBytes(32).toString('base64') } });
}

/** Changes one fully significant base64url character of the ciphertext part, keeping the format valid. */
function flipFirstCharOfCiphertext(sealed: string): string {
  const parts = sealed.split('.');
  const ciphertext = parts[3]!;
  parts[3] = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1);
  return parts.join('.');
}

const never = async (): Promise<never> => {
  throw new Error('refresher must not be called');
};

function connect(vault: Vault, subject: string, overrides: Partial<Parameters<Vault['putConnection']>[0]> = {}) {
  return vault.putConnection({
    tenant: 'acme',
    subject,
    app: 'github',
    accessToken: `gho_access_${subject}_0123456789`,
    refreshToken: `ghr_refresh_${subject}_0123456789`,
    expiresAt: Date.now() + 3_600_000,
    scopes: ['repo'],
    externalAccountId: `id-${subject}`,
    externalLogin: `${subject}-gh`,
    ...overrides,
  });
}

describe('loadVaultKey', () => {
  const bytes = randomBytes(32);

  test('accepts 32 bytes as base64, unpadded base64url or hex, all naming the same key', () => {
    const fromBase64 = loadVaultKey({ env: { BATON_VAULT_KEY: bytes.toString('base64') } });
    const fromBase64url = loadVaultKey({ env: { BATON_VAULT_KEY: bytes.toString('base64url') } });
    const fromHex = loadVaultKey({ env: { BATON_VAULT_KEY: `  ${bytes.toString('hex')}\n` } });
    for (const key of [fromBase64, fromBase64url, fromHex]) {
      expect(key.bytes.equals(bytes)).toBe(true);
      expect(key.source).toBe('env');
      expect(key.fingerprint).toBe(fromBase64.fingerprint);
    }
    expect(fromBase64.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(loadVaultKey({ env: { BATON_VAULT_KEY: randomBytes(32).toString('hex') } }).fingerprint).not.toBe(fromBase64.fingerprint);
  });

  test.each([
    ['a password', 'hunter2-is-my-password'],
    ['24 bytes of base64', randomBytes(24).toString('base64')],
    ['31 bytes of hex', randomBytes(31).toString('hex')],
    ['empty', ''],
  ])('rejects %s with a VaultKeyError explaining how to make a key', (_label, value) => {
    let thrown: unknown;
    try {
      loadVaultKey({ env: { BATON_VAULT_KEY: value }, devKeyFile: join(dir, 'vault.key') });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VaultKeyError);
    const error = thrown as VaultKeyError;
    expect(error.code).toBe('vault_key_invalid');
    expect(error.message).toContain('BATON_VAULT_KEY');
    expect(error.message).toContain('openssl rand -base64 32');
    if (value) expect(error.message).not.toContain(value);
    // A bad explicit key never silently falls back to the development key file.
    expect(existsSync(join(dir, 'vault.key'))).toBe(false);
  });

  test('without BATON_VAULT_KEY creates a private development key file once and reuses it', () => {
    const devKeyFile = join(dir, '.baton', 'vault.key');
    const first = loadVaultKey({ env: {}, devKeyFile });
    expect(first.source).toBe('file');
    expect(statSync(devKeyFile).mode & 0o777).toBe(0o600);
    const second = loadVaultKey({ env: {}, devKeyFile });
    expect(second.bytes.equals(first.bytes)).toBe(true);
    expect(second.fingerprint).toBe(first.fingerprint);
    // The variable wins over the file when both exist.
    expect(loadVaultKey({ env: { BATON_VAULT_KEY: bytes.toString('hex') }, devKeyFile }).bytes.equals(bytes)).toBe(true);
  });

  test('without BATON_VAULT_KEY or a development key file it refuses', () => {
    expect(() => loadVaultKey({ env: {} })).toThrow(VaultKeyError);
    expect(() => loadVaultKey({ env: {} })).toThrow(/BATON_VAULT_KEY is not set.*openssl rand -base64 32/);
  });
});

describe('seal / unseal', () => {
  test('round-trips, with a fresh IV each time, and records version and key fingerprint', () => {
    const key = newKey();
    const one = seal(key, 'top secret', 'connection:acme:alice:github');
    const two = seal(key, 'top secret', 'connection:acme:alice:github');
    expect(one).not.toBe(two);
    expect(one.startsWith(`v1.${key.fingerprint}.`)).toBe(true);
    expect(one).not.toContain('top secret');
    expect(unseal(key, one, 'connection:acme:alice:github')).toBe('top secret');
  });

  test('a value opened under another AAD or tampered with is corrupt, never garbage', () => {
    const key = newKey();
    const sealed = seal(key, 'top secret', 'connection:acme:bob:github');
    expect(() => unseal(key, sealed, 'connection:acme:alice:github')).toThrow(VaultCorruptError);
    expect(() => unseal(key, flipFirstCharOfCiphertext(sealed), 'connection:acme:bob:github')).toThrow(VaultCorruptError);
    expect(() => unseal(key, 'junk', 'x')).toThrow(VaultCorruptError);
    expect(() => unseal(key, `v2.${key.fingerprint}.a.b.c`, 'x')).toThrow(VaultCorruptError);
  });

  test('a value sealed with another key names both keys', () => {
    const right = newKey();
    const wrong = newKey();
    const sealed = seal(right, 'top secret', 'service:slack');
    expect(() => unseal(wrong, sealed, 'service:slack')).toThrow(VaultKeyMismatchError);
    expect(() => unseal(wrong, sealed, 'service:slack')).toThrow(`encrypted with vault key ${right.fingerprint} but BATON_VAULT_KEY is ${wrong.fingerprint}; set the key this vault was created with`);
  });
});

describe.each(storageBackends('vault'))('Vault storage on $name', (backend) => {
  let db: SqlDatabase;
  let key: VaultKey;
  let vault: Vault;
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  beforeEach(async () => {
    await backend.fresh();
    db = await backend.open();
    key = newKey();
    vault = await Vault.open(db, key);
  });
  afterEach(() => db.close());

  test('a connection round-trips and its tokens never reach the database in plaintext', async () => {
    const info = await connect(vault, 'alice');
    expect(info).toMatchObject({ tenant: 'acme', subject: 'alice', app: 'github', status: 'active', version: 1, lastUsedAt: null });
    const resolved = await vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh: never });
    expect(resolved.accessToken).toBe('gho_access_alice_0123456789');

    // Everything stored: SQLite's file (its WAL included, where fresh writes sit first); PostgreSQL's rows.
    const raw = await backend.storedText(db);
    expect(raw).toContain('alice-gh'); // metadata is in the clear, proving we read the right bytes
    expect(raw).not.toContain('gho_access_alice_0123456789');
    expect(raw).not.toContain('ghr_refresh_alice_0123456789');
  });

  test('getConnectionInfo and listConnections expose metadata only', async () => {
    const expiresAt = Date.now() + 1000_000;
    await connect(vault, 'alice', { expiresAt, scopes: ['repo', 'read:org'] });
    await connect(vault, 'alice', { app: 'slack', accessToken: 'xoxp-alice-secret', refreshToken: undefined, expiresAt: undefined });
    const info = await vault.getConnectionInfo('acme', 'alice', 'github');
    expect(Object.keys(info!).sort()).toEqual(
      ['app', 'createdAt', 'expiresAt', 'externalAccountId', 'externalLogin', 'lastUsedAt', 'scopes', 'status', 'statusReason', 'subject', 'tenant', 'updatedAt', 'version'].sort(),
    );
    expect(info).toMatchObject({ scopes: ['repo', 'read:org'], expiresAt, externalAccountId: 'id-alice', externalLogin: 'alice-gh', statusReason: null });
    const listed = await vault.listConnections('acme', 'alice');
    expect(listed.map((connection) => connection.app)).toEqual(['github', 'slack']);
    expect(listed[1]!.expiresAt).toBeNull();
    const serialised = JSON.stringify([info, listed]);
    expect(serialised).not.toContain('gho_access');
    expect(serialised).not.toContain('ghr_refresh');
    expect(serialised).not.toContain('xoxp-alice-secret');
    expect(await vault.getConnectionInfo('acme', 'alice', 'jira')).toBeUndefined();
    expect(await vault.listConnections('other-tenant', 'alice')).toEqual([]);
  });

  test('putConnection on an existing connection keeps createdAt, bumps version and makes it active again', async () => {
    let clock = 1_000_000;
    const timed = await Vault.open(db, key, { now: () => clock });
    const first = await connect(timed, 'alice', { expiresAt: clock + 3_600_000 });
    await timed.markConnection('acme', 'alice', 'github', 'needs_reconsent', 'refresh_failed');
    clock += 5000;
    const second = await connect(timed, 'alice', { accessToken: 'gho_new', expiresAt: clock + 3_600_000 });
    expect(second).toMatchObject({ status: 'active', statusReason: null, createdAt: first.createdAt, updatedAt: clock, version: 3 });
    const resolved = await timed.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh: never });
    expect(resolved.accessToken).toBe('gho_new');
    expect(resolved.info.lastUsedAt).toBe(clock);
    expect((await timed.getConnectionInfo('acme', 'alice', 'github'))!.lastUsedAt).toBe(clock);
  });

  test('deleteConnection removes it; resolving then says it was never connected', async () => {
    await connect(vault, 'alice');
    expect(await vault.deleteConnection('acme', 'alice', 'github')).toBe(true);
    expect(await vault.deleteConnection('acme', 'alice', 'github')).toBe(false);
    await expect(vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh: never })).rejects.toMatchObject({
      reason: 'never_connected',
    });
  });

  test('takeConnectionForRevocation hands the tokens to exactly one of several concurrent callers', async () => {
    await connect(vault, 'alice');
    const takes = await Promise.all(Array.from({ length: 5 }, () => vault.takeConnectionForRevocation('acme', 'alice', 'github')));
    const taken = takes.filter((take) => take !== undefined);
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatchObject({
      info: { subject: 'alice', app: 'github', status: 'active' },
      secret: { accessToken: 'gho_access_alice_0123456789', refreshToken: 'ghr_refresh_alice_0123456789' },
    });
    expect(await vault.getConnectionInfo('acme', 'alice', 'github')).toBeUndefined();
    expect(await vault.takeConnectionForRevocation('acme', 'alice', 'github')).toBeUndefined();
  });

  test('opening the vault with another key fails at once with a clear message', async () => {
    await connect(vault, 'alice');
    const otherKey = newKey();
    let thrown: unknown;
    try {
      await Vault.open(db, otherKey);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VaultKeyMismatchError);
    expect((thrown as VaultKeyMismatchError).code).toBe('vault_key_mismatch');
    expect((thrown as Error).message).toBe(`this vault was encrypted with vault key ${key.fingerprint} but BATON_VAULT_KEY is ${otherKey.fingerprint}; set the key this vault was created with`);
    // The right key still opens it, from another connection to the same database.
    const again = await backend.open();
    try {
      expect((await (await Vault.open(again, key)).getConnectionInfo('acme', 'alice', 'github'))?.status).toBe('active');
    } finally {
      await again.close();
    }
  });

  test.each([
    ['junk', () => 'junk'],
    ['a tampered ciphertext', (sealed: string) => flipFirstCharOfCiphertext(sealed)],
  ])('a row holding %s is unreadable for that user only', async (_label, corrupt) => {
    await connect(vault, 'alice');
    await connect(vault, 'bob');
    const { sealed_secret } = (await db.get<{ sealed_secret: string }>("SELECT sealed_secret FROM vault_connections WHERE subject = 'alice'"))!;
    await db.run("UPDATE vault_connections SET sealed_secret = ? WHERE subject = 'alice'", corrupt(sealed_secret));
    const before = await db.all('SELECT * FROM vault_connections ORDER BY subject');

    const failure = vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh: never });
    await expect(failure).rejects.toBeInstanceOf(ConnectionUnavailableError);
    await expect(failure).rejects.toMatchObject({ reason: 'unreadable', app: 'github', code: 'connection_unavailable' });
    await expect(failure).rejects.toThrow('the stored github credential for alice is corrupted and cannot be decrypted; alice must reconnect github');
    expect(await db.all('SELECT * FROM vault_connections ORDER BY subject')).toEqual(before);

    const bob = await vault.resolveUserAccessToken({ tenant: 'acme', subject: 'bob', app: 'github', refresh: never });
    expect(bob.accessToken).toBe('gho_access_bob_0123456789');
    expect((await vault.getConnectionInfo('acme', 'alice', 'github'))?.status).toBe('active');
  });

  test("bob's ciphertext copied into alice's row is not accepted", async () => {
    await connect(vault, 'alice');
    await connect(vault, 'bob');
    await db.run("UPDATE vault_connections SET sealed_secret = (SELECT sealed_secret FROM vault_connections WHERE subject = 'bob') WHERE subject = 'alice'");
    await expect(vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh: never })).rejects.toMatchObject({
      reason: 'unreadable',
    });
  });

  test('a row sealed under another key stays a key mismatch, not a broken connection', async () => {
    await connect(vault, 'alice');
    const foreign = seal(newKey(), JSON.stringify({ accessToken: 'x' }), 'connection:acme:alice:github');
    await db.run("UPDATE vault_connections SET sealed_secret = ? WHERE subject = 'alice'", foreign);
    await expect(vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh: never })).rejects.toBeInstanceOf(VaultKeyMismatchError);
  });

  test('never connected, revoked and needs-reconsent connections explain what the user must do', async () => {
    const resolve = (app: string) => vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app, refresh: never });
    await expect(resolve('github')).rejects.toMatchObject({
      name: 'ConnectionUnavailableError',
      reason: 'never_connected',
      message: 'alice has not connected github yet; connect it to continue',
    });

    await connect(vault, 'alice');
    expect(await vault.markConnection('acme', 'alice', 'github', 'revoked', 'user disconnected github')).toBe(true);
    await expect(resolve('github')).rejects.toMatchObject({ reason: 'revoked', message: expect.stringMatching(/revoked.*reconnect github/) });

    await connect(vault, 'alice');
    await vault.markConnection('acme', 'alice', 'github', 'needs_reconsent', 'new scopes required');
    await expect(resolve('github')).rejects.toMatchObject({
      reason: 'refresh_failed',
      message: expect.stringMatching(/new scopes required.*reconnect github/),
    });
    expect(await vault.getConnectionInfo('acme', 'alice', 'github')).toMatchObject({ status: 'needs_reconsent', statusReason: 'new scopes required', version: 4 });
    expect(await vault.markConnection('acme', 'nobody', 'github', 'revoked', 'x')).toBe(false);
  });

  test('an expired token without a refresh token is reported as expired; a still-valid one is used', async () => {
    await connect(vault, 'alice', { refreshToken: undefined, expiresAt: Date.now() - 1000 });
    await expect(vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh: never })).rejects.toMatchObject({
      reason: 'expired',
    });
    await connect(vault, 'alice', { refreshToken: undefined, expiresAt: Date.now() + 20_000 });
    const resolved = await vault.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh: never });
    expect(resolved.accessToken).toBe('gho_access_alice_0123456789');
  });

  test('service credentials round-trip, encrypted and bound to their app', async () => {
    expect(await vault.getServiceCredential('slack')).toBeUndefined();
    await vault.putServiceCredential('slack', { botToken: 'xoxb-service-secret-42', signingSecret: 'sig-secret-42' }, 'Slack bot');
    await vault.putServiceCredential('jira', { apiToken: 'jira-service-secret-42' });
    expect(await vault.getServiceCredential('slack')).toEqual({ botToken: 'xoxb-service-secret-42', signingSecret: 'sig-secret-42' });

    await vault.putServiceCredential('slack', { botToken: 'xoxb-rotated-secret-43' }, 'Slack bot v2');
    expect(await vault.getServiceCredential('slack')).toEqual({ botToken: 'xoxb-rotated-secret-43' });
    expect(await db.get("SELECT label FROM vault_service_credentials WHERE app = 'slack'")).toEqual({ label: 'Slack bot v2' });

    const raw = await backend.storedText(db);
    expect(raw).toContain('Slack bot v2');
    for (const secret of ['xoxb-service-secret-42', 'sig-secret-42', 'xoxb-rotated-secret-43', 'jira-service-secret-42']) {
      expect(raw).not.toContain(secret);
    }

    await db.run("UPDATE vault_service_credentials SET sealed_secret = (SELECT sealed_secret FROM vault_service_credentials WHERE app = 'jira') WHERE app = 'slack'");
    await expect(vault.getServiceCredential('slack')).rejects.toThrow(VaultCorruptError);
    expect(await vault.deleteServiceCredential('jira')).toBe(true);
    expect(await vault.getServiceCredential('jira')).toBeUndefined();
  });
});
