/**
 * Issue 6, unit level: the vault with a current key plus previous keys (mixed rows, wrong and unknown
 * keys), the start-up key check mid-rotation, in-place re-encryption (also racing a refresh), and the
 * identity key set across a rotation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDatabase } from '../core/db.ts';
import { generateIdentityKey, loadIdentityKeys, readDevIdentityFile, toPublicJwk, withNewSigningKey, withoutKey, writeDevIdentityFile } from '../core/identity/keys.ts';
import { createIdentitySigner } from '../core/identity/signer.ts';
import { createIdentityVerifier } from '../core/identity/verifier.ts';
import { IdentityRejectedError } from '../core/identity/errors.ts';
import {
  loadVaultKeyring,
  parseVaultKey,
  reencryptVault,
  RotationLock,
  seal,
  unseal,
  Vault,
  VaultBusyError,
  VaultCorruptError,
  VaultKeyError,
  VaultKeyMismatchError,
  type VaultKey,
  type VaultKeyring,
} from '../core/vault/index.ts';
import { readDevKeyFile, writeDevKeyFile } from '../core/vault/key.ts';
import { storageBackends } from './support/storage-backends.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-keyring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const keyText = () => randomBytes(32).toString('base64');
const newKey = (text = keyText()): VaultKey => parseVaultKey(text, 'env', 'BATON_VAULT_KEY');
const never = async (): Promise<never> => {
  throw new Error('refresher must not be called');
};

function connect(vault: Vault, subject: string, app = 'github') {
  return vault.putConnection({
    tenant: 'acme',
    subject,
    app,
    accessToken: `access-${subject}-${app}`,
    refreshToken: `refresh-${subject}-${app}`,
    expiresAt: Date.now() + 3_600_000,
    scopes: ['repo'],
    externalAccountId: `id-${subject}`,
    externalLogin: subject,
  });
}

const fingerprintsIn = async (db: SqlDatabase) =>
  [
    ...(await db.all<{ v: string }>("SELECT value AS v FROM vault_meta WHERE name = 'key_check'")),
    ...(await db.all<{ v: string }>('SELECT sealed_secret AS v FROM vault_connections')),
    ...(await db.all<{ v: string }>('SELECT sealed_secret AS v FROM vault_service_credentials')),
    ...(await db.all<{ v: string }>('SELECT sealed_token AS v FROM vault_inbound_tokens')),
  ].map((row) => row.v.split('.')[1]);

describe('seal / unseal with a keyring', () => {
  test('seals with the current key and opens values under the current or any previous key', () => {
    const [oldKey, newer] = [newKey(), newKey()];
    const ring: VaultKeyring = { current: newer, previous: [oldKey] };
    const before = seal(oldKey, 'old secret', 'service:jira');
    const after = seal(ring, 'new secret', 'service:jira');
    expect(after.startsWith(`v1.${newer.fingerprint}.`)).toBe(true);
    expect(unseal(ring, before, 'service:jira')).toBe('old secret');
    expect(unseal(ring, after, 'service:jira')).toBe('new secret');
    // A previous key cannot be used to move a value to another row either.
    expect(() => unseal(ring, before, 'service:slack')).toThrow(VaultCorruptError);
  });

  test('a value under a key that is neither current nor previous names every configured key', () => {
    const stranger = newKey();
    const ring: VaultKeyring = { current: newKey(), previous: [newKey(), newKey()] };
    const sealed = seal(stranger, 'x', 'service:jira');
    let thrown: unknown;
    try {
      unseal(ring, sealed, 'service:jira');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VaultKeyMismatchError);
    expect((thrown as VaultKeyMismatchError).sealedWith).toBe(stranger.fingerprint);
    expect((thrown as Error).message).toBe(
      `the secret for service:jira was encrypted with vault key ${stranger.fingerprint} but BATON_VAULT_KEY is ${ring.current.fingerprint} and BATON_VAULT_PREVIOUS_KEYS holds ${ring.previous.map((key) => key.fingerprint).join(', ')}; set the key this vault was created with`,
    );
  });

  test('a wrong key under a known fingerprint (tampered fingerprint) fails authentication, never returns garbage', () => {
    const [a, b] = [newKey(), newKey()];
    const sealed = seal(a, 'x', 'service:jira').split('.');
    sealed[1] = b.fingerprint; // claims to be under b, but was made with a
    expect(() => unseal({ current: a, previous: [b] }, sealed.join('.'), 'service:jira')).toThrow(VaultCorruptError);
  });
});

describe('loading the keyring', () => {
  test('BATON_VAULT_KEY is current and BATON_VAULT_PREVIOUS_KEYS (comma-separated) are previous', () => {
    const [current, one, two] = [keyText(), keyText(), randomBytes(32).toString('hex')];
    const ring = loadVaultKeyring({ env: { BATON_VAULT_KEY: current, BATON_VAULT_PREVIOUS_KEYS: ` ${one}, ${two} ,${current}` } });
    expect(ring.current.fingerprint).toBe(newKey(current).fingerprint);
    // The current key listed again as previous is dropped.
    expect(ring.previous.map((key) => key.fingerprint)).toEqual([newKey(one).fingerprint, newKey(two).fingerprint]);
    expect(loadVaultKeyring({ env: { BATON_VAULT_KEY: current } }).previous).toEqual([]);
  });

  test('a malformed previous key is refused by position, without echoing it; previous keys without a current key are refused', () => {
    const attempt = () => loadVaultKeyring({ env: { BATON_VAULT_KEY: keyText(), BATON_VAULT_PREVIOUS_KEYS: `${keyText()},not-a-real-key` } });
    expect(attempt).toThrow(VaultKeyError);
    expect(attempt).toThrow(/BATON_VAULT_PREVIOUS_KEYS \(entry 2\) must hold 32 random bytes/);
    expect(attempt).not.toThrow(/not-a-real-key/);
    expect(() => loadVaultKeyring({ env: { BATON_VAULT_PREVIOUS_KEYS: keyText() }, devKeyFile: join(dir, 'vault.key') })).toThrow(/BATON_VAULT_PREVIOUS_KEYS is set but BATON_VAULT_KEY is not/);
  });

  test('the development key file holds the history (first key current) and a running keyring follows it', () => {
    const file = join(dir, 'vault.key');
    const ring = loadVaultKeyring({ env: {}, devKeyFile: file });
    const first = ring.current.fingerprint;
    expect(ring.previous).toEqual([]);
    const [older] = readDevKeyFile(file);
    const next = keyText();
    writeDevKeyFile(file, [next, older!.bytes.toString('base64')]);
    expect(ring.current.fingerprint).toBe(newKey(next).fingerprint);
    expect(ring.previous.map((key) => key.fingerprint)).toEqual([first]);
    writeDevKeyFile(file, [next]);
    expect(ring.previous).toEqual([]);
    // A file broken by hand leaves the last good keys in place (the next process start reports it).
    writeFileSync(file, 'garbage\n');
    expect(ring.current.fingerprint).toBe(newKey(next).fingerprint);
  });
});

describe.each(storageBackends('keyring'))('the vault mid-rotation, on $name', (backend) => {
  let db: SqlDatabase;
  let oldKey: VaultKey;
  let newer: VaultKey;
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  beforeEach(async () => {
    await backend.fresh();
    db = await backend.open();
    [oldKey, newer] = [newKey(), newKey()];
  });
  afterEach(() => db.close());

  /** alice's row under the old key, bob's under the new one (written by a process already on the new key). */
  async function mixedRows(): Promise<void> {
    await connect(await Vault.open(db, oldKey), 'alice');
    await connect(await Vault.open(db, { current: newer, previous: [oldKey] }), 'bob');
  }

  test('opens with the new key current and the old one previous, and resolves both kinds of row', async () => {
    await mixedRows();
    const vault = await Vault.open(db, { current: newer, previous: [oldKey] });
    for (const subject of ['alice', 'bob']) {
      expect((await vault.resolveUserAccessToken({ tenant: 'acme', subject, app: 'github', refresh: never })).accessToken).toBe(`access-${subject}-github`);
    }
  });

  test('refuses to start, naming the key and the rows, when a key some rows are under is not configured', async () => {
    await mixedRows();
    // Only the new key: alice's row (and the key check) are under the old one.
    await expect(Vault.open(db, newer)).rejects.toThrow(`this vault was encrypted with vault key ${oldKey.fingerprint} but BATON_VAULT_KEY is ${newer.fingerprint}`);
    // Only the old key: the key check opens, but bob's row is under a key this process does not have.
    let thrown: unknown;
    try {
      await Vault.open(db, oldKey);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VaultKeyMismatchError);
    expect((thrown as Error).message).toMatch(
      new RegExp(
        `^this vault holds 1 connection under vault key ${newer.fingerprint}, which BATON_VAULT_KEY is ${oldKey.fingerprint} cannot open\\. A key rotation is unfinished: add the missing key to BATON_VAULT_PREVIOUS_KEYS`,
      ),
    );
  });

  test('re-encrypts every sealed column in place, keeps version and updated_at, skips current rows, and leaves the old key useless', async () => {
    const vault = await Vault.open(db, oldKey);
    for (let n = 0; n < 25; n++) await connect(vault, `user-${String(n).padStart(2, '0')}`);
    await vault.putServiceCredential('jira', { username: 'svc', password: 'pw' });
    await vault.putInboundToken('ref-1', { tenant: 'acme', subject: 'alice' }, 'inbound-token', Date.now() + 60_000);
    const rotating = await Vault.open(db, { current: newer, previous: [oldKey] });
    await connect(rotating, 'user-99'); // already on the new key
    const before = await db.all<{ subject: string; version: number; updated_at: number }>('SELECT subject, version, updated_at FROM vault_connections ORDER BY subject');

    const ring = { current: newer, previous: [oldKey] };
    const report = await reencryptVault(db, ring, { batchSize: 4 });
    expect(report.columns.map((column) => [column.label, column.reencrypted, column.alreadyCurrent, column.unreadable.length])).toEqual([
      ['key check', 1, 0, 0],
      ['connections', 25, 1, 0],
      ['service credentials', 1, 0, 0],
      ['inbound tokens', 1, 0, 0],
    ]);
    expect(report.remaining.size).toBe(0);
    expect(new Set(await fingerprintsIn(db))).toEqual(new Set([newer.fingerprint]));
    expect(await db.all('SELECT subject, version, updated_at FROM vault_connections ORDER BY subject')).toEqual(before);
    // Running it again finds nothing to do.
    expect((await reencryptVault(db, ring)).columns.every((column) => column.reencrypted === 0)).toBe(true);

    const renewed = await Vault.open(db, newer);
    expect(await renewed.getServiceCredential('jira')).toEqual({ username: 'svc', password: 'pw' });
    expect((await renewed.getInboundToken('ref-1', { tenant: 'acme', subject: 'alice' }))?.token).toBe('inbound-token');
    expect((await renewed.resolveUserAccessToken({ tenant: 'acme', subject: 'user-07', app: 'github', refresh: never })).accessToken).toBe('access-user-07-github');
    // The old key alone opens nothing: the vault refuses it, and not one stored value unseals with it.
    await expect(Vault.open(db, oldKey)).rejects.toThrow(VaultKeyMismatchError);
    for (const row of await db.all<{ tenant: string; subject: string; app: string; sealed_secret: string }>('SELECT * FROM vault_connections')) {
      expect(() => unseal(oldKey, row.sealed_secret, `connection:${row.tenant}:${row.subject}:${row.app}`)).toThrow(VaultKeyMismatchError);
    }
  });

  test('values no configured key opens are reported, never touched unless asked, and then deleted', async () => {
    const vault = await Vault.open(db, oldKey);
    await connect(vault, 'alice');
    await connect(vault, 'bob');
    const lostKey = newKey();
    await db.run("UPDATE vault_connections SET sealed_secret = ? WHERE subject = 'bob'", seal(lostKey, '{"accessToken":"x"}', 'connection:acme:bob:github'));
    await db.run("UPDATE vault_connections SET sealed_secret = 'v1.garbage' WHERE subject = 'alice'");
    await connect(vault, 'carol');
    const ring = { current: newer, previous: [oldKey] };

    const report = await reencryptVault(db, ring);
    const connections = report.columns.find((column) => column.label === 'connections')!;
    expect(connections.reencrypted).toBe(1);
    expect(connections.unreadable).toEqual([
      { label: 'connections', what: "alice's github connection (tenant acme)", reason: 'not a sealed value (corrupt)', deleted: false },
      {
        label: 'connections',
        what: "bob's github connection (tenant acme)",
        reason: `sealed with vault key ${lostKey.fingerprint}, which is not configured`,
        missingKey: lostKey.fingerprint,
        deleted: false,
      },
    ]);
    expect(report.remaining).toEqual(
      new Map([
        [lostKey.fingerprint, 1],
        ['malformed', 1],
      ]),
    );
    expect(Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM vault_connections'))?.n)).toBe(3);

    // Deletion is asked for by name: corrupt values, and values under a key declared lost (not just any key missing from the configuration).
    const corruptOnly = await reencryptVault(db, ring, { deleteCorrupt: true, deleteUnderLostKeys: [newKey().fingerprint] });
    expect(corruptOnly.columns.find((column) => column.label === 'connections')!.unreadable.map((value) => value.deleted)).toEqual([true, false]);
    expect(corruptOnly.remaining).toEqual(new Map([[lostKey.fingerprint, 1]]));
    const cleaned = await reencryptVault(db, ring, { deleteUnderLostKeys: [lostKey.fingerprint] });
    expect(cleaned.columns.find((column) => column.label === 'connections')!.unreadable.every((value) => value.deleted)).toBe(true);
    expect(cleaned.remaining.size).toBe(0);
    expect((await db.all<{ subject: string }>('SELECT subject FROM vault_connections')).map((row) => row.subject)).toEqual(['carol']);
  });

  test('a refresh in flight while its row is re-encrypted is not lost, and its waiters are not disturbed', async () => {
    const vault = await Vault.open(db, oldKey);
    await vault.putConnection({
      tenant: 'acme',
      subject: 'alice',
      app: 'github',
      accessToken: 'expired',
      refreshToken: 'refresh-1',
      expiresAt: Date.now() - 1000,
      scopes: [],
      externalAccountId: 'a',
      externalLogin: 'alice',
    });
    // The worker already runs with the new key current (deploy step 1 of a rotation).
    const worker = await Vault.open(db, { current: newer, previous: [oldKey] });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let refreshes = 0;
    const refresh = async (refreshToken: string) => {
      refreshes += 1;
      expect(refreshToken).toBe('refresh-1');
      await released; // the provider takes its time; the rotation runs meanwhile
      return { accessToken: 'fresh', refreshToken: 'refresh-2', expiresAt: Date.now() + 3_600_000 };
    };
    const first = worker.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh });
    const waiter = worker.resolveUserAccessToken({ tenant: 'acme', subject: 'alice', app: 'github', refresh });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const report = await reencryptVault(db, { current: newer, previous: [oldKey] });
    expect(report.columns.find((column) => column.label === 'connections')!.reencrypted).toBe(1);
    release();
    expect((await first).accessToken).toBe('fresh');
    expect((await waiter).accessToken).toBe('fresh');
    expect(refreshes).toBe(1);
    const info = (await worker.getConnectionInfo('acme', 'alice', 'github'))!;
    expect(info.version).toBe(2); // exactly one credential change: the refresh
    // The rotated refresh token was stored (sealed under the new key), so the next refresh uses it.
    expect((await fingerprintsIn(db)).every((fingerprint) => fingerprint === newer.fingerprint)).toBe(true);
    await db.run("UPDATE vault_connections SET expires_at = ? WHERE subject = 'alice'", Date.now() - 1);
    const next = await (
      await Vault.open(db, newer)
    ).resolveUserAccessToken({
      tenant: 'acme',
      subject: 'alice',
      app: 'github',
      refresh: async (refreshToken) => ({ accessToken: `after-${refreshToken}`, expiresAt: Date.now() + 3_600_000 }),
    });
    expect(next.accessToken).toBe('after-refresh-2');
  });

  test('one rotation at a time', async () => {
    await Vault.open(db, oldKey);
    const first = new RotationLock(db);
    await first.acquire();
    await expect(new RotationLock(db).acquire()).rejects.toThrow(VaultBusyError);
    await first.renew();
    await first.release();
    const second = new RotationLock(db);
    await second.acquire();
    await second.release();

    // Racing for a free lease (on PostgreSQL on separate pooled connections, with no global lock): one wins.
    // The pool's connections are opened first, so the racers' transactions really overlap.
    if (db.dialect === 'postgres') await Promise.all(Array.from({ length: 4 }, () => db.get('SELECT pg_sleep(0.05)')));
    const racers = Array.from({ length: 4 }, () => new RotationLock(db));
    const outcomes = await Promise.allSettled(racers.map((racer) => racer.acquire()));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes.filter((outcome) => outcome.status === 'rejected')) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(VaultBusyError);
    await Promise.all(racers.map((racer) => racer.release()));
  });
});

describe('identity keys across a rotation', () => {
  const binding = { rootWorkflowId: 'probe-1', tool: 'probe' };
  const identity = {
    subject: 'alice',
    email: null,
    displayName: null,
    tenant: 'acme',
    authMethod: 'oauth' as const,
    groups: [],
    roles: [],
    issuer: 'idp',
    inboundTokenRef: null,
    headerOverrideRef: null,
    client: null,
    server: null,
  };

  test('workers verify by kid with every key in the set; a retired kid is refused by name', async () => {
    const [oldKey, newer] = [await generateIdentityKey(), await generateIdentityKey()];
    const both = withNewSigningKey({ keys: [toPublicJwk(oldKey)] }, newer);
    expect(both.keys.map((key) => key.kid)).toEqual([newer.kid, oldKey.kid]);
    const verify = createIdentityVerifier(both);
    const oldToken = await (await createIdentitySigner(oldKey))(identity, binding);
    const newToken = await (await createIdentitySigner(newer))(identity, binding);
    expect((await verify(oldToken)).identity.subject).toBe('alice');
    expect((await verify(newToken)).identity.subject).toBe('alice');

    const retired = withoutKey(both, oldKey.kid!, newer.kid);
    const after = createIdentityVerifier(retired);
    expect((await after(newToken)).identity.subject).toBe('alice');
    await expect(after(oldToken)).rejects.toBeInstanceOf(IdentityRejectedError);
    await expect(after(oldToken)).rejects.toThrow(`signed by a key this worker does not trust (key id "${oldKey.kid}": retired, or never in BATON_IDENTITY_JWKS)`);

    expect(() => withoutKey(both, newer.kid!, newer.kid)).toThrow(/is the current signing key/);
    expect(() => withoutKey(retired, newer.kid!, undefined)).toThrow(/only trusted identity key/);
    expect(() => withoutKey(both, 'nope', newer.kid)).toThrow(/No trusted identity key has kid "nope"/);
  });

  test('BATON_IDENTITY_JWKS must select keys unambiguously and hold public keys only', async () => {
    const [a, b] = [await generateIdentityKey(), await generateIdentityKey()];
    const load = (jwks: unknown) => loadIdentityKeys({ env: { BATON_IDENTITY_JWKS: JSON.stringify(jwks) }, devKeyFile: join(dir, 'unused.json') });
    await expect(load({ keys: [toPublicJwk(a), toPublicJwk(b)] })).resolves.toMatchObject({ source: 'env' });
    await expect(load({ keys: [toPublicJwk(a), { ...toPublicJwk(b), kid: a.kid }] })).rejects.toThrow(/lists kid ".*" twice/);
    await expect(load({ keys: [{ ...toPublicJwk(a), kid: undefined }] })).rejects.toThrow(/needs a "kid"/);
    await expect(load({ keys: [a] })).rejects.toThrow(/public keys only.*includes its private part/);
    await expect(load({ keys: [] })).rejects.toThrow(/at least one key/);
  });

  test('the development key file keeps earlier public keys after a rotation, in a format old files still load', async () => {
    const file = join(dir, 'identity-key.json');
    const first = await loadIdentityKeys({ env: {}, devKeyFile: file });
    expect(readDevIdentityFile(file)).toEqual({ signing: first.privateJwk, verifyOnly: [] });
    const next = await generateIdentityKey();
    writeDevIdentityFile(file, { signing: next, verifyOnly: [first.privateJwk!] }); // the private part is dropped on write
    const rotated = await loadIdentityKeys({ env: {}, devKeyFile: file });
    expect(rotated.privateJwk?.kid).toBe(next.kid);
    expect(rotated.publicKeys.keys.map((key) => key.kid)).toEqual([next.kid, first.privateJwk!.kid]);
    expect(rotated.publicKeys.keys.some((key) => 'd' in key)).toBe(false);
  });
});
