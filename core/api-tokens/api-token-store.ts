import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isUniqueViolation, type SqlDatabase } from '../db.ts';
import type { Principal } from '../identity/principal.ts';

export const API_TOKEN_PREFIX = 'baton_';
export const API_TOKEN_ISSUER = 'urn:baton:api-token';
/** What an API token may do: call tools. Granted to every token until tokens carry their own scopes. */
export const API_TOKEN_SCOPES: readonly string[] = ['mcp:tools'];

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
// The id is hex so it never contains "_", which keeps "baton_<id>_<secret>" splittable even though the
// base64url secret may contain "_". 32 secret bytes encode to exactly 43 characters.
const TOKEN_PATTERN = /^baton_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** last_used_at is written at most once in this long per token, so busy callers do not turn reads into writes. */
const LAST_USED_RESOLUTION_MS = 60 * 1000;

export interface ApiTokenInfo {
  id: string;
  name: string;
  tenant: string;
  /** Epoch milliseconds, like the other stores. */
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface CreatedApiToken {
  id: string;
  name: string;
  /** Shown once: only a hash of its secret is stored. */
  token: string;
}

interface ApiTokenRow {
  id: string;
  name: string;
  tenant: string;
  secret_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** The token is not what the store expects: a bad name, or a name already in use. */
export class ApiTokenError extends Error {
  override name = 'ApiTokenError';
}

/**
 * API tokens for service callers (CI, scripts). A token is `baton_<id>_<secret>`; the store keeps only
 * SHA-256 of the secret, so a copy of the database cannot be used to call Baton. A plain hash (no
 * salt, no slow KDF) is enough because the secret is 256 random bits, not a password.
 */
export class ApiTokenStore {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /**
   * A new token. Names are unique among live tokens: the database's partial unique index on live names
   * decides, in the one INSERT, so two gateways creating the same name at once cannot both succeed.
   */
  async create(name: string, options: { tenant?: string } = {}): Promise<CreatedApiToken> {
    const tenant = checkedNameAndTenant(name, options.tenant);
    const { id, secret, token } = generateApiToken();
    const { changes } = await this.#db.run(
      `INSERT INTO api_tokens (id, name, tenant, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING`,
      id,
      name,
      tenant,
      hashSecret(secret),
      Date.now(),
    );
    if (changes === 0) throw new ApiTokenError(`An API token named ${JSON.stringify(name)} already exists; revoke it first or choose another name.`);
    return { id, name, token };
  }

  /**
   * A token declared in the configuration file (its value from a secret reference): stored (hashed)
   * under its own id, and active again at every start — the file is where it is managed.
   */
  async declare(name: string, token: string, options: { tenant?: string } = {}): Promise<void> {
    const tenant = checkedNameAndTenant(name, options.tenant);
    const match = TOKEN_PATTERN.exec(token);
    if (!match) throw new ApiTokenError('must be a Baton API token (baton_<id>_<secret>); make one with `baton api-token generate`');
    const [, id, secret] = match as unknown as [string, string, string];
    try {
      // One statement: inserted, or (same id) brought back to life under the file's name. Another live token
      // holding the name trips the unique index on live names, whichever gateway got there first.
      await this.#db.run(
        `INSERT INTO api_tokens (id, name, tenant, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, tenant = excluded.tenant, secret_hash = excluded.secret_hash, revoked_at = NULL`,
        id,
        name,
        tenant,
        hashSecret(secret),
        Date.now(),
      );
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ApiTokenError(`the name ${JSON.stringify(name)} belongs to another live token; revoke it (baton api-token revoke ${name}) or rename this one`);
      }
      throw error;
    }
  }

  /** The caller the token stands for, or undefined for a malformed, unknown, wrong or revoked token. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const match = typeof token === 'string' ? TOKEN_PATTERN.exec(token) : null;
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const row = await this.#db.get<ApiTokenRow>('SELECT * FROM api_tokens WHERE id = ?', id);
    if (!row || row.revoked_at !== null) return undefined;
    // Both sides are 32-byte digests, so the comparison takes the same time whatever the secret.
    if (!timingSafeEqual(Buffer.from(row.secret_hash, 'hex'), Buffer.from(hashSecret(secret), 'hex'))) return undefined;
    const now = Date.now();
    // Only when the row read says the mark is stale, so most calls are one SELECT; the WHERE keeps two
    // gateways touching it at once to one write.
    if (row.last_used_at === null || row.last_used_at <= now - LAST_USED_RESOLUTION_MS) {
      await this.#db.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)', now, id, now - LAST_USED_RESOLUTION_MS);
    }
    return {
      kind: 'service',
      authMethod: 'api_token',
      subject: `api-token:${row.name}`,
      email: null,
      name: row.name,
      tenant: row.tenant,
      groups: [],
      issuer: API_TOKEN_ISSUER,
      clientId: null,
      scopes: [...API_TOKEN_SCOPES],
      expiresAt: null,
      apiTokenId: row.id,
    };
  }

  /** Same as the module-level isApiToken, for callers that only hold the store. */
  isApiToken(token: string): boolean {
    return isApiToken(token);
  }

  /** Revokes the live token with this id, else the one with this name; false when there is none. */
  async revoke(nameOrId: string): Promise<boolean> {
    const now = Date.now();
    const byId = await this.#db.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', now, nameOrId);
    if (byId.changes > 0) return true;
    return (await this.#db.run('UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL', now, nameOrId)).changes > 0;
  }

  /** Every token, revoked ones included, oldest first; secrets are not stored, so none can be listed. */
  async list(): Promise<ApiTokenInfo[]> {
    const rows = await this.#db.all<ApiTokenRow>('SELECT * FROM api_tokens ORDER BY created_at, id');
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      tenant: row.tenant,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    }));
  }
}

/** A fresh token: 8 random bytes of id and 32 of secret. Nothing is stored. */
export function generateApiToken(): { id: string; secret: string; token: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${API_TOKEN_PREFIX}${id}_${secret}` };
}

function checkedNameAndTenant(name: string, tenant = 'default'): string {
  if (!NAME_PATTERN.test(name)) {
    throw new ApiTokenError(`API token name ${JSON.stringify(name)} is not allowed: use 1 to 64 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit.`);
  }
  if (tenant === '') throw new ApiTokenError('An API token needs a tenant; leave it out to use "default".');
  return tenant;
}

/** Tells the gateway which verifier a bearer token is for; says nothing about validity. */
export function isApiToken(token: string): boolean {
  return typeof token === 'string' && token.startsWith(API_TOKEN_PREFIX);
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
