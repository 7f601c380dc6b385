import type { SqlDatabase } from '../core/db.ts';
import { ApiTokenError, ApiTokenStore, generateApiToken, isApiToken } from '../core/api-tokens/api-token-store.ts';
import { storageBackends } from './support/storage-backends.ts';

let db: SqlDatabase;
let store: ApiTokenStore;

/** The token's secret part: everything after "baton_<id>_". */
function secretOf(token: string): string {
  return token.split('_').slice(2).join('_');
}

describe.each(storageBackends('api_tokens'))('API tokens on $name', (backend) => {
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  beforeEach(async () => {
    await backend.fresh();
    db = await backend.open();
    store = new ApiTokenStore(db);
  });
  afterEach(() => db.close());

  test('a created token authenticates as a service principal', async () => {
    const created = await store.create('ci-deploy', { tenant: 'acme' });
    expect(created.name).toBe('ci-deploy');
    expect(created.token).toMatch(new RegExp(`^baton_${created.id}_[A-Za-z0-9_-]{43}$`));
    expect(await store.authenticate(created.token)).toEqual({
      kind: 'service',
      authMethod: 'api_token',
      subject: 'api-token:ci-deploy',
      email: null,
      name: 'ci-deploy',
      tenant: 'acme',
      groups: [],
      issuer: 'urn:baton:api-token',
      clientId: null,
      scopes: ['mcp:tools'],
      expiresAt: null,
      apiTokenId: created.id,
    });
    expect((await store.create('nightly')).token).not.toBe(created.token);
    expect((await store.authenticate((await store.create('default-tenant')).token))?.tenant).toBe('default');
  });

  test('the database holds no copy of the token or its secret', async () => {
    const { token } = await store.create('scanner');
    expect(await store.authenticate(token)).toBeDefined();
    const rows = await db.all<Record<string, unknown>>('SELECT * FROM api_tokens');
    expect(rows).toHaveLength(1);
    const everyValue = rows.flatMap((row) => Object.values(row).map(String)).join('\n');
    expect(everyValue).not.toContain(token);
    expect(everyValue).not.toContain(secretOf(token));
    // And as stored: SQLite's file bytes, write-ahead log included, not just through SQL; PostgreSQL's rows.
    const raw = await backend.storedText(db);
    expect(raw).toContain('scanner');
    expect(raw).not.toContain(secretOf(token));
  });

  test('a wrong secret, an unknown id or garbage do not authenticate', async () => {
    const { id, token } = await store.create('ci');
    const secret = secretOf(token);
    const flipped = `${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`;
    expect(await store.authenticate(`baton_${id}_${flipped}`)).toBeUndefined();
    expect(await store.authenticate(`baton_0123456789abcdef_${secret}`)).toBeUndefined();
    for (const garbage of ['', 'baton_', 'baton_xyz', `baton_${id}`, `baton_${id}_`, `${token}x`, token.slice(0, -1), `Bearer ${token}`, 'eyJhbGciOiJIUzI1NiJ9.e30.x']) {
      expect(await store.authenticate(garbage)).toBeUndefined();
    }
    expect(await store.authenticate(token)).toBeDefined();
  });

  test('a revoked token no longer authenticates; its name can be reused', async () => {
    const first = await store.create('ci');
    expect(await store.revoke('ci')).toBe(true);
    expect(await store.authenticate(first.token)).toBeUndefined();
    expect(await store.revoke('ci')).toBe(false);

    const second = await store.create('ci');
    expect(await store.revoke(second.id)).toBe(true);
    expect(await store.authenticate(second.token)).toBeUndefined();
    expect(await store.revoke('never-created')).toBe(false);
  });

  test('names are unique among live tokens', async () => {
    await store.create('ci');
    await expect(store.create('ci')).rejects.toThrow(ApiTokenError);
    await expect(store.create('ci')).rejects.toThrow('An API token named "ci" already exists; revoke it first or choose another name.');
    expect(await store.list()).toHaveLength(1);
  });

  test('of many creations of one name at once, on separate connections, exactly one succeeds', async () => {
    // The database's unique index on live names decides, not a read before the write: on PostgreSQL
    // these run on separate connections of the pool and of a second database handle.
    const other = await backend.open();
    try {
      const stores = [store, new ApiTokenStore(other)];
      const attempts = await Promise.allSettled(Array.from({ length: 12 }, (_, index) => stores[index % 2]!.create('release-bot')));
      expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
      for (const attempt of attempts.filter((attempt) => attempt.status === 'rejected')) {
        expect((attempt as PromiseRejectedResult).reason).toBeInstanceOf(ApiTokenError);
      }
      expect((await store.list()).filter((token) => token.name === 'release-bot')).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  test('a declared token takes its name unless another live token holds it', async () => {
    const declared = generateApiToken().token;
    await store.declare('from-file', declared, { tenant: 'acme' });
    await store.declare('from-file', declared, { tenant: 'acme' }); // every start declares it again
    expect((await store.authenticate(declared))?.subject).toBe('api-token:from-file');
    await store.create('taken');
    await expect(store.declare('taken', generateApiToken().token)).rejects.toThrow('the name "taken" belongs to another live token; revoke it (baton api-token revoke taken) or rename this one');
    // Revoked in the database, active again at the next start: the file is where it is managed.
    expect(await store.revoke('from-file')).toBe(true);
    await store.declare('from-file', declared, { tenant: 'acme' });
    expect(await store.authenticate(declared)).toBeDefined();
    expect(await store.list()).toHaveLength(2);
  });

  test('names must be short lowercase identifiers', async () => {
    for (const bad of ['', 'CI', '-ci', '.ci', 'ci token', 'ci/deploy', 'x'.repeat(65), 'é']) {
      await expect(store.create(bad)).rejects.toThrow(/is not allowed: use 1 to 64 lowercase letters, digits/);
    }
    for (const good of ['a', '0', 'ci.deploy_v2-prod', 'x'.repeat(64)]) {
      expect((await store.create(good)).name).toBe(good);
    }
  });

  test('list shows metadata without secrets', async () => {
    const kept = await store.create('kept', { tenant: 'acme' });
    const dropped = await store.create('dropped');
    await store.revoke('dropped');
    const listed = await store.list();
    // Both were created within the same millisecond, so their order is not part of the contract.
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(
      expect.arrayContaining([
        { id: kept.id, name: 'kept', tenant: 'acme', createdAt: expect.any(Number), lastUsedAt: null, revokedAt: null },
        { id: dropped.id, name: 'dropped', tenant: 'default', createdAt: expect.any(Number), lastUsedAt: null, revokedAt: expect.any(Number) },
      ]),
    );
    const text = JSON.stringify(listed);
    expect(text).not.toContain(secretOf(kept.token));
    expect(text).not.toContain(secretOf(dropped.token));
  });

  test('use is recorded', async () => {
    const { token } = await store.create('ci');
    expect((await store.list())[0]!.lastUsedAt).toBeNull();
    const before = Date.now();
    await store.authenticate(token);
    const lastUsedAt = (await store.list())[0]!.lastUsedAt;
    expect(lastUsedAt).toBeGreaterThanOrEqual(before);
    expect(lastUsedAt).toBeLessThanOrEqual(Date.now());
  });

  test('isApiToken tells API tokens from JWTs by prefix only', async () => {
    const { token } = await store.create('ci');
    expect(isApiToken(token)).toBe(true);
    expect(store.isApiToken(token)).toBe(true);
    expect(isApiToken('baton_anything')).toBe(true);
    expect(isApiToken('eyJhbGciOiJSUzI1NiJ9.e30.sig')).toBe(false);
    expect(isApiToken('')).toBe(false);
  });

  test('tokens survive reopening the database', async () => {
    const { token } = await store.create('ci');
    await db.close();
    db = await backend.open();
    store = new ApiTokenStore(db);
    expect((await store.authenticate(token))?.subject).toBe('api-token:ci');
  });
});
