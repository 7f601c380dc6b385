import type { SqlDatabase } from '../db.ts';
import { seal, unseal } from './cipher.ts';
import { connectionParams, readConnectionRow, sealConnectionSecret, toConnectionInfo, unsealConnectionSecret, WHERE_CONNECTION, type ConnectionRow, type ConnectionSecret } from './connection-rows.ts';
import type { ConnectionId, ConnectionInfo, PutConnectionInput, RefreshedTokens, Refresher, ResolvedUserToken } from './connection-types.ts';
import { ConnectionUnavailableError, isConnectionUnavailableReason, RefreshRejectedError, VaultCorruptError } from './errors.ts';
import { verifyVaultKey } from './key-check.ts';
import { keyringOf, type VaultKeyring, type VaultKeys } from './key.ts';
import { withRefreshLease, type LeaseTiming } from './refresh-lease.ts';
import { inboundAad, serviceAad } from './sealed-columns.ts';

export interface VaultOptions {
  /** Clock in epoch ms; tests pin it. */
  now?: () => number;
  /** How long one process may hold a connection's refresh lease before others take over (default 30 s). */
  refreshLeaseMs?: number;
  /** How often a process waiting on another's refresh re-checks the row (default 50 ms). */
  refreshPollMs?: number;
}

const DEFAULT_MARGIN_MS = 60_000;
// Bounds the refresh loop when an app keeps issuing tokens that are already expired.
const MAX_REFRESH_ROUNDS = 3;

/** Each user's app connections and the deployment's service-account credentials, encrypted at rest. */
export class Vault {
  readonly #db: SqlDatabase;
  /** Current key for sealing, previous keys (a rotation in progress) for opening older values. */
  readonly #key: VaultKeyring;
  readonly #lease: LeaseTiming;
  /** One refresh per connection per process: concurrent resolves share this promise. */
  readonly #refreshesInFlight = new Map<string, Promise<void>>();
  /**
   * The last refresh of each connection that failed with an error that left the row as it was: a caller that
   * began before it failed, and read the same row, shares that failure instead of refreshing a second time
   * (its read can finish after the flight ended); a caller that begins afterwards (a retry) refreshes anew.
   */
  readonly #failedRefreshes = new Map<string, { version: number; failedAt: number; error: unknown }>();

  private constructor(db: SqlDatabase, key: VaultKeyring, lease: LeaseTiming) {
    this.#db = db;
    this.#key = key;
    this.#lease = lease;
  }

  /**
   * Refuses (VaultKeyMismatchError) keys other than the vault's own, or a
   * keyring that misses a key some value is still sealed with. `keys`: one key, or during a rotation the
   * current key (new values) plus previous keys (opening values not yet re-encrypted).
   */
  static async open(db: SqlDatabase, keys: VaultKeys, options: VaultOptions = {}): Promise<Vault> {
    const now = options.now ?? Date.now;
    const key = keyringOf(keys);
    await verifyVaultKey(db, key, now());
    return new Vault(db, key, { now, leaseMs: options.refreshLeaseMs ?? 30_000, pollMs: options.refreshPollMs ?? 50 });
  }

  /** Stores (or replaces, on reconnect) a user's connection; it becomes active again. */
  async putConnection(input: PutConnectionInput): Promise<ConnectionInfo> {
    assertConnectionInput(input);
    const now = this.#lease.now();
    // RETURNING: the row as this statement left it, even if another write follows at once.
    const row = await this.#db.get<ConnectionRow>(
      `INSERT INTO vault_connections (tenant, subject, app, sealed_secret, expires_at, scopes, external_account_id, external_login,
         status, status_reason, created_at, updated_at, last_used_at, version, refresh_lease_owner, refresh_lease_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', NULL, ?, ?, NULL, 1, NULL, NULL)
       ON CONFLICT (tenant, subject, app) DO UPDATE SET
         sealed_secret = excluded.sealed_secret, expires_at = excluded.expires_at, scopes = excluded.scopes,
         external_account_id = excluded.external_account_id, external_login = excluded.external_login,
         status = 'active', status_reason = NULL, updated_at = excluded.updated_at, version = vault_connections.version + 1
       RETURNING *`,
      ...connectionParams(input),
      sealConnectionSecret(this.#key, input, { accessToken: input.accessToken, refreshToken: input.refreshToken }),
      input.expiresAt ?? null,
      JSON.stringify(input.scopes),
      input.externalAccountId,
      input.externalLogin,
      now,
      now,
    );
    if (!row) throw new Error(`connection ${input.app} of ${input.subject} was not returned by the statement that wrote it`);
    return toConnectionInfo(row);
  }

  async getConnectionInfo(tenant: string, subject: string, app: string): Promise<ConnectionInfo | undefined> {
    const row = await readConnectionRow(this.#db, { tenant, subject, app });
    return row && toConnectionInfo(row);
  }

  async listConnections(tenant: string, subject: string): Promise<ConnectionInfo[]> {
    const rows = await this.#db.all<ConnectionRow>('SELECT * FROM vault_connections WHERE tenant = ? AND subject = ? ORDER BY app', tenant, subject);
    return rows.map(toConnectionInfo);
  }

  /** Resolves to false when there is no such connection. */
  async markConnection(tenant: string, subject: string, app: string, status: 'needs_reconsent' | 'revoked', reason: string): Promise<boolean> {
    const { changes } = await this.#db.run(
      `UPDATE vault_connections SET status = ?, status_reason = ?, updated_at = ?, version = version + 1 WHERE ${WHERE_CONNECTION}`,
      status,
      reason,
      this.#lease.now(),
      tenant,
      subject,
      app,
    );
    return changes === 1;
  }

  /** Resolves to false when there was no such connection. */
  async deleteConnection(tenant: string, subject: string, app: string): Promise<boolean> {
    return (await this.#db.run(`DELETE FROM vault_connections WHERE ${WHERE_CONNECTION}`, tenant, subject, app)).changes === 1;
  }

  /**
   * Removes a user's connection and hands back its tokens, in one statement (`DELETE … RETURNING`): of
   * concurrent calls (in any process) only one gets the row; from the moment this resolves no resolve can
   * use the connection (the next one finds none and asks for consent), and the caller holds the only copy
   * of the tokens, to revoke them at the app. `secret` is null when the sealed value could
   * not be read (the row is deleted all the same). Undefined when there was no such connection.
   */
  async takeConnectionForRevocation(tenant: string, subject: string, app: string): Promise<{ info: ConnectionInfo; secret: { accessToken: string; refreshToken?: string } | null } | undefined> {
    const row = await this.#db.get<ConnectionRow>(`DELETE FROM vault_connections WHERE ${WHERE_CONNECTION} RETURNING *`, tenant, subject, app);
    if (!row) return undefined;
    let secret: ConnectionSecret | null = null;
    try {
      secret = unsealConnectionSecret(this.#key, row);
    } catch {
      secret = null;
    }
    return { info: toConnectionInfo(row), secret };
  }

  async putServiceCredential(app: string, secret: Record<string, string>, label?: string): Promise<void> {
    if (!app) throw new TypeError('putServiceCredential needs an app');
    if (typeof secret !== 'object' || secret === null || Object.values(secret).some((value) => typeof value !== 'string')) {
      throw new TypeError('a service credential must be an object of string values');
    }
    const now = this.#lease.now();
    await this.#db.run(
      `INSERT INTO vault_service_credentials (app, label, sealed_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (app) DO UPDATE SET label = excluded.label, sealed_secret = excluded.sealed_secret, updated_at = excluded.updated_at`,
      app,
      label ?? null,
      seal(this.#key, JSON.stringify(secret), serviceAad(app)),
      now,
      now,
    );
  }

  /** Throws VaultCorruptError / VaultKeyMismatchError rather than returning a credential it cannot vouch for. */
  async getServiceCredential(app: string): Promise<Record<string, string> | undefined> {
    const row = await this.#db.get<{ sealed_secret: string }>('SELECT sealed_secret FROM vault_service_credentials WHERE app = ?', app);
    return row && (JSON.parse(unseal(this.#key, row.sealed_secret, serviceAad(app))) as Record<string, string>);
  }

  /**
   * Keeps a caller's inbound bearer token for the modes that need it (passthrough, token exchange),
   * so workflows carry only `ref`. Sealed bound to the ref and the user: another user's identity
   * cannot read it. Expired tokens are swept on every write.
   */
  async putInboundToken(ref: string, owner: { tenant: string; subject: string }, token: string, expiresAt: number): Promise<void> {
    await this.#db.run('DELETE FROM vault_inbound_tokens WHERE expires_at < ?', Date.now());
    await this.#db.run(
      'INSERT INTO vault_inbound_tokens (ref, tenant, subject, sealed_token, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING',
      ref,
      owner.tenant,
      owner.subject,
      seal(this.#key, token, inboundAad(ref, owner)),
      expiresAt,
    );
  }

  /** The caller's inbound token behind `ref`, only for its owner and only while it has not expired. */
  async getInboundToken(ref: string, owner: { tenant: string; subject: string }): Promise<{ token: string; expiresAt: number } | undefined> {
    const row = await this.#db.get<{ sealed_token: string; expires_at: number }>(
      'SELECT sealed_token, expires_at FROM vault_inbound_tokens WHERE ref = ? AND tenant = ? AND subject = ?',
      ref,
      owner.tenant,
      owner.subject,
    );
    if (!row || Number(row.expires_at) <= Date.now()) return undefined;
    return { token: unseal(this.#key, row.sealed_token, inboundAad(ref, owner)), expiresAt: Number(row.expires_at) };
  }

  async deleteServiceCredential(app: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM vault_service_credentials WHERE app = ?', app)).changes === 1;
  }

  /**
   * The user's current access token for `app`, refreshed first when it expires within `marginMs`.
   * Concurrent calls for one connection — in this process or any other sharing the database — cause at most
   * one `refresh` call; the others wait for and use its result. Errors from `refresh` other than
   * RefreshRejectedError propagate unchanged and leave the connection as it was.
   */
  async resolveUserAccessToken(args: { tenant: string; subject: string; app: string; refresh: Refresher; marginMs?: number }): Promise<ResolvedUserToken> {
    const id: ConnectionId = { tenant: args.tenant, subject: args.subject, app: args.app };
    let marginMs = args.marginMs ?? DEFAULT_MARGIN_MS;
    const startedAt = performance.now();
    for (let round = 0; ; round++) {
      const row = await readConnectionRow(this.#db, id);
      if (!row) throw new ConnectionUnavailableError(id, 'never_connected');
      const secret = this.#usableSecret(id, row);
      const now = this.#lease.now();
      const expiresAt = row.expires_at === null ? Infinity : Number(row.expires_at);
      // Refresh ahead by the margin, but never by more than half the token's lifetime: an app whose tokens
      // live shorter than the margin would otherwise be asked for a new token on every single call.
      const lifetime = expiresAt - Number(row.updated_at);
      if (expiresAt - Math.min(marginMs, lifetime / 2) > now) return this.#recordUse(row, secret, now);
      // Without a refresh token the current one is all there is: use it for as long as it is actually valid.
      if (!secret.refreshToken || round >= MAX_REFRESH_ROUNDS) {
        if (expiresAt > now) return this.#recordUse(row, secret, now);
        throw new ConnectionUnavailableError(id, 'expired');
      }
      await this.#refreshOnce(id, Number(row.version), args.refresh, startedAt);
      // A freshly issued token is good until it actually expires, even if the app's lifetimes are shorter than the margin.
      marginMs = 0;
    }
  }

  /** The row's tokens, or the ConnectionUnavailableError explaining why the user has to act. */
  #usableSecret(id: ConnectionId, row: ConnectionRow): ConnectionSecret {
    if (row.status === 'revoked') throw new ConnectionUnavailableError(id, 'revoked', { detail: row.status_reason ?? undefined });
    if (row.status === 'needs_reconsent') {
      const stored = row.status_reason;
      if (isConnectionUnavailableReason(stored)) throw new ConnectionUnavailableError(id, stored);
      throw new ConnectionUnavailableError(id, 'refresh_failed', { detail: stored ?? undefined });
    }
    try {
      return unsealConnectionSecret(this.#key, row);
    } catch (error) {
      // Only this row is affected; a key mismatch is not the row's fault and stays a VaultKeyMismatchError.
      if (error instanceof VaultCorruptError) throw new ConnectionUnavailableError(id, 'unreadable', { cause: error });
      throw error;
    }
  }

  async #recordUse(row: ConnectionRow, secret: ConnectionSecret, now: number): Promise<ResolvedUserToken> {
    // lastUsedAt deliberately leaves `version` alone: it is not a credential change and must not wake
    // refresh waiters or invalidate a refresh another process is about to store.
    await this.#db.run(`UPDATE vault_connections SET last_used_at = ? WHERE ${WHERE_CONNECTION}`, now, ...connectionParams(row));
    return { accessToken: secret.accessToken, info: { ...toConnectionInfo(row), lastUsedAt: now } };
  }

  #refreshOnce(id: ConnectionId, seenVersion: number, refresh: Refresher, callerStartedAt: number): Promise<void> {
    const flightKey = JSON.stringify([id.tenant, id.subject, id.app]);
    const inFlight = this.#refreshesInFlight.get(flightKey);
    if (inFlight) return inFlight;
    const failed = this.#failedRefreshes.get(flightKey);
    if (failed && failed.version === seenVersion && callerStartedAt <= failed.failedAt) return Promise.reject(failed.error as Error);
    const flight = withRefreshLease(this.#db, id, seenVersion, this.#lease, () => this.#refreshHoldingLease(id, seenVersion, refresh))
      .then(
        () => void this.#failedRefreshes.delete(flightKey),
        (error: unknown) => {
          this.#failedRefreshes.set(flightKey, { version: seenVersion, failedAt: performance.now(), error });
          throw error;
        },
      )
      .finally(() => this.#refreshesInFlight.delete(flightKey));
    this.#refreshesInFlight.set(flightKey, flight);
    return flight;
  }

  async #refreshHoldingLease(id: ConnectionId, seenVersion: number, refresh: Refresher): Promise<void> {
    const row = await readConnectionRow(this.#db, id);
    if (!row || Number(row.version) !== seenVersion || row.status !== 'active') return;
    const secret = unsealConnectionSecret(this.#key, row);
    if (!secret.refreshToken) return;
    let tokens: RefreshedTokens;
    try {
      tokens = await refresh(secret.refreshToken);
    } catch (error) {
      if (!(error instanceof RefreshRejectedError)) throw error;
      // Conditional on the version we refreshed from: if the user reconnected meanwhile, that connection stands.
      const { changes: marked } = await this.#db.run(
        `UPDATE vault_connections SET status = 'needs_reconsent', status_reason = 'refresh_failed', updated_at = ?, version = version + 1
         WHERE ${WHERE_CONNECTION} AND version = ?`,
        this.#lease.now(),
        ...connectionParams(id),
        seenVersion,
      );
      if (marked === 1) throw new ConnectionUnavailableError(id, 'refresh_failed', { detail: error.message, cause: error });
      return;
    }
    if (typeof tokens?.accessToken !== 'string' || tokens.accessToken === '') {
      throw new TypeError(`the ${id.app} refresher returned no access token`);
    }
    // Providers that rotate refresh tokens invalidate the old one, so the new one must be stored; the old one
    // is kept only when none came back.
    const rotated: ConnectionSecret = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken ?? secret.refreshToken };
    await this.#db.run(
      `UPDATE vault_connections SET sealed_secret = ?, expires_at = ?, scopes = ?, updated_at = ?, version = version + 1
       WHERE ${WHERE_CONNECTION} AND version = ?`,
      sealConnectionSecret(this.#key, id, rotated),
      tokens.expiresAt ?? null,
      tokens.scopes ? JSON.stringify(tokens.scopes) : row.scopes,
      this.#lease.now(),
      ...connectionParams(id),
      seenVersion,
    );
  }
}

function assertConnectionInput(input: PutConnectionInput): void {
  for (const field of ['tenant', 'subject', 'app', 'accessToken', 'externalAccountId'] as const) {
    if (typeof input[field] !== 'string' || input[field] === '') throw new TypeError(`putConnection needs a non-empty ${field}`);
  }
  if (typeof input.externalLogin !== 'string') throw new TypeError('externalLogin must be a string');
  if (input.refreshToken !== undefined && typeof input.refreshToken !== 'string') throw new TypeError('refreshToken must be a string');
  if (input.expiresAt !== undefined && !Number.isFinite(input.expiresAt)) throw new TypeError('expiresAt must be epoch milliseconds');
  if (!Array.isArray(input.scopes) || input.scopes.some((scope) => typeof scope !== 'string')) {
    throw new TypeError('scopes must be an array of strings');
  }
}
