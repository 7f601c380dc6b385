import type { Logger } from 'pino';
import type { AuditActor } from '../../core/audit/audit-event.ts';
import type { BatonSettings } from '../../core/config/settings.ts';
import type { BatonStores } from '../../core/stores.ts';

export interface RevocationResult {
  /** False when the user had no connection to the app (nothing was changed). */
  revoked: boolean;
  /** Whether the app confirmed that the token (and the grant behind it) is revoked. */
  revokedAtProvider: boolean;
  /** Why the app did not confirm it, when it did not; never contains a token. */
  providerError: string | null;
}

export interface ConnectionRevocationDependencies {
  settings: BatonSettings;
  stores: BatonStores;
  log: Logger;
}

/** How long the app's revocation endpoint gets to answer. */
const PROVIDER_TIMEOUT_MS = 10_000;

/**
 * A user disconnecting an app (web page, API or CLI). The secret leaves the vault first, atomically with
 * its row, so no run can pick it up again: runs in flight that call the app next find no connection and
 * pause for consent. Then the app is asked to revoke the token, so a copy held anywhere else (an app call
 * already on the wire) stops working too. A failure at the app is recorded, not fatal: Baton no longer
 * has the secret either way. One audit record per revocation, naming who did it; never the token.
 */
export class ConnectionRevocation {
  readonly #settings: BatonSettings;
  readonly #stores: BatonStores;
  readonly #log: Logger;

  constructor(deps: ConnectionRevocationDependencies) {
    this.#settings = deps.settings;
    this.#stores = deps.stores;
    this.#log = deps.log;
  }

  async revoke(user: { tenant: string; subject: string }, app: string, actor: AuditActor): Promise<RevocationResult> {
    const taken = await this.#stores.vault.takeConnectionForRevocation(user.tenant, user.subject, app);
    if (!taken) return { revoked: false, revokedAtProvider: false, providerError: null };

    const atProvider = taken.secret
      ? await this.#revokeAtProvider(app, taken.secret).catch((error: unknown) => ({ ok: false as const, attempted: true, message: describeFailure(error) }))
      : { ok: false as const, attempted: false, message: 'the stored secret could not be read, so there was nothing to revoke at the app' };
    const providerError = atProvider.ok ? null : atProvider.message;
    // Apps without a revocation API (a personal API key entered on Baton's page) are not a failure.
    const outcome = atProvider.ok || !atProvider.attempted ? 'ok' : 'provider_failed';

    await this.#stores.audit.record({
      kind: 'connection.revoked',
      outcome,
      actor,
      app,
      action: 'connection.revoke',
      message: atProvider.ok
        ? `${user.subject}'s ${app} connection was deleted and revoked at ${app}.`
        : `${user.subject}'s ${app} connection was deleted; ${app} did not confirm the revocation: ${providerError}`,
      detail: {
        targetTenant: user.tenant,
        targetSubject: user.subject,
        externalLogin: taken.info.externalLogin,
        revokedAtProvider: atProvider.ok,
        providerError,
      },
    });
    const fields = { app, tenant: user.tenant, subject: user.subject, by: actor.subject, revokedAtProvider: atProvider.ok };
    if (outcome === 'ok') this.#log.info(fields, 'connection revoked');
    else this.#log.warn({ ...fields, providerError }, 'connection revoked in Baton; the app did not confirm the revocation');
    return { revoked: true, revokedAtProvider: atProvider.ok, providerError };
  }

  /** `attempted` is false when the app offers no way to revoke (nothing was sent). */
  async #revokeAtProvider(app: string, secret: { accessToken: string; refreshToken?: string }): Promise<{ ok: true } | { ok: false; attempted: boolean; message: string }> {
    const settings = this.#settings.apps.get(app);
    const revocation = settings?.connector.oauth?.revoke;
    if (!revocation || !settings) return { ok: false, attempted: false, message: `${app} has no revocation API` };
    const request = revocation.toRequest({ endpoints: settings.endpoints, client: settings.client, ...secret });
    if ('unavailable' in request) return { ok: false, attempted: true, message: request.unavailable };
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const answer = revocation.readAnswer(response.status, body);
    return answer.ok ? answer : { ok: false, attempted: true, message: answer.message };
  }
}

/** A network failure's description, without anything from the request (which carried the token). */
function describeFailure(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `the app did not answer within ${PROVIDER_TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error && error.cause instanceof Error ? ((error.cause as Error & { code?: string }).code ?? error.cause.message) : undefined;
  return `the app could not be reached${cause ? ` (${cause})` : ''}`;
}
