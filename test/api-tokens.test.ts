import type { SqlDatabase } from '../core/db.ts';
import { ApiTokenError, ApiTokenStore, isApiToken } from '../gateway/auth/api-tokens.ts';
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
  beforeEach(() => {
    backend.fresh();
    db = backend.open();
    store = new ApiTokenStore(db);
  });
  afterEach(() => db.close());

  test('a created token authenticates as a service principal', () => {
    const created = store.create('ci-deploy', { tenant: 'acme' });
    expect(created.name).toBe('ci-deploy');
    expect(created.token).toMatch(new RegExp(`^baton_${created.id}_[A-Za-z0-9_-]{43}$`));
    expect(store.authenticate(created.token)).toEqual({
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
    expect(store.create('nightly').token).not.toBe(created.token);
    expect(store.authenticate(store.create('default-tenant').token)?.tenant).toBe('default');
  });

  test('the database holds no copy of the token or its secret', () => {
    const { token } = store.create('scanner');
    expect(store.authenticate(token)).toBeDefined();
    const rows = db.all<Record<string, unknown>>('SELECT * FROM api_tokens');
    expect(rows).toHaveLength(1);
    const everyValue = rows.flatMap((row) => Object.values(row).map(String)).join('\n');
    expect(everyValue).not.toContain(token);
    expect(everyValue).not.toContain(secretOf(token));
    // And as stored: SQLite's file bytes, write-ahead log included, not just through SQL; PostgreSQL's rows.
    const raw = backend.storedText(db);
    expect(raw).toContain('scanner');
    expect(raw).not.toContain(secretOf(token));
  });

  test('a wrong secret, an unknown id or garbage do not authenticate', () => {
    const { id, token } = store.create('ci');
    const secret = secretOf(token);
    const flipped = `${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`;
    expect(store.authenticate(`baton_${id}_${flipped}`)).toBeUndefined();
    expect(store.authenticate(`baton_0123456789abcdef_${secret}`)).toBeUndefined();
    for (const garbage of ['', 'baton_', 'baton_xyz', `baton_${id}`, `baton_${id}_`, `${token}x`, token.slice(0, -1), `Bearer ${token}`, 'eyJhbGciOiJIUzI1NiJ9.e30.x']) {
      expect(store.authenticate(garbage)).toBeUndefined();
    }
    expect(store.authenticate(token)).toBeDefined();
  });

  test('a revoked token no longer authenticates; its name can be reused', () => {
    const first = store.create('ci');
    expect(store.revoke('ci')).toBe(true);
    expect(store.authenticate(first.token)).toBeUndefined();
    expect(store.revoke('ci')).toBe(false);

    const second = store.create('ci');
    expect(store.revoke(second.id)).toBe(true);
    expect(store.authenticate(second.token)).toBeUndefined();
    expect(store.revoke('never-created')).toBe(false);
  });

  test('names are unique among live tokens', () => {
    store.create('ci');
    expect(() => store.create('ci')).toThrow(ApiTokenError);
    expect(() => store.create('ci')).toThrow('An API token named "ci" already exists; revoke it first or choose another name.');
    expect(store.list()).toHaveLength(1);
  });

  test('names must be short lowercase identifiers', () => {
    for (const bad of ['', 'CI', '-ci', '.ci', 'ci token', 'ci/deploy', 'x'.repeat(65), 'é']) {
      expect(() => store.create(bad)).toThrow(/is not allowed: use 1 to 64 lowercase letters, digits/);
    }
    for (const good of ['a', '0', 'ci.deploy_v2-prod', 'x'.repeat(64)]) {
      expect(store.create(good).name).toBe(good);
    }
  });

  test('list shows metadata without secrets', () => {
    const kept = store.create('kept', { tenant: 'acme' });
    const dropped = store.create('dropped');
    store.revoke('dropped');
    const listed = store.list();
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

  test('use is recorded', () => {
    const { token } = store.create('ci');
    expect(store.list()[0]!.lastUsedAt).toBeNull();
    const before = Date.now();
    store.authenticate(token);
    const lastUsedAt = store.list()[0]!.lastUsedAt;
    expect(lastUsedAt).toBeGreaterThanOrEqual(before);
    expect(lastUsedAt).toBeLessThanOrEqual(Date.now());
  });

  test('isApiToken tells API tokens from JWTs by prefix only', () => {
    const { token } = store.create('ci');
    expect(isApiToken(token)).toBe(true);
    expect(store.isApiToken(token)).toBe(true);
    expect(isApiToken('baton_anything')).toBe(true);
    expect(isApiToken('eyJhbGciOiJSUzI1NiJ9.e30.sig')).toBe(false);
    expect(isApiToken('')).toBe(false);
  });

  test('tokens survive reopening the database', () => {
    const { token } = store.create('ci');
    db.close();
    db = backend.open();
    store = new ApiTokenStore(db);
    expect(store.authenticate(token)?.subject).toBe('api-token:ci');
  });
});
