import type { Client } from '@temporalio/client';
import type { AppConnector } from '../../apps/index.ts';
import { appDisplayName, oauthRedirectUri, type BatonSettings } from '../../core/config/settings.ts';
import { PendingAuthorizations } from '../../core/consent/pending-authorizations.ts';
import { sendAppRequest } from '../../core/http/app-request.ts';
import type { OAuthAppClient } from '../../core/oauth/oauth-app-client.ts';
import { oauthClientsFor } from '../../core/oauth/oauth-clients.ts';
import type { BatonStores } from '../../core/stores.ts';
import { resumeWaitingRuns, type ConnectionKey } from './resume-runs.ts';

/** Why a connect attempt was refused; each kind gets its own page. */
export type ConnectFailure = 'unknown_request' | 'request_closed' | 'wrong_user' | 'unknown_state' | 'expired_state' | 'other_session' | 'not_oauth_app' | 'rejected_key';

/** Where an app that uses each user's own API key expects it. */
export interface PersonalApiKey {
  in: 'header' | 'query';
  name: string;
}

export class ConnectFlowError extends Error {
  override name = 'ConnectFlowError';
  readonly kind: ConnectFailure;
  constructor(kind: ConnectFailure, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface CallbackResult extends ConnectionKey {
  outcome: 'connected' | 'denied';
  externalLogin: string | null;
  resumedWorkflows: string[];
}

/** The signed-in browser user, and a value bound to their browser session. */
export interface BrowserUser {
  tenant: string;
  subject: string;
  sessionBinding: string;
}

/**
 * Connecting a user's app account: the authorize URL (PKCE S256, and a `state` bound to the browser
 * session, the consent request and the app) and the callback that stores the connection in the vault
 * and resumes every run of that user waiting on the app.
 */
export class ConnectFlow {
  readonly #settings: BatonSettings;
  readonly #stores: BatonStores;
  readonly #client: Client;
  readonly #pending: PendingAuthorizations;
  /** The OAuth client of each app users connect (core/oauth/oauth-clients.ts). */
  readonly #oauthClients: ReadonlyMap<string, OAuthAppClient>;

  constructor(settings: BatonSettings, stores: BatonStores, client: Client, oauthClients: ReadonlyMap<string, OAuthAppClient> = oauthClientsFor(settings, stores.vault)) {
    this.#oauthClients = oauthClients;
    this.#settings = settings;
    this.#stores = stores;
    this.#client = client;
    this.#pending = new PendingAuthorizations(stores.db);
  }

  /** An app's (or upstream MCP server's) name as people read it. */
  appName(app: string): string {
    return appDisplayName(this.#settings, app);
  }

  /** The pending consent request behind a link, only for the user whose run raised it. */
  async openRequest(consentId: string, user: BrowserUser): Promise<ConnectionKey & { appName: string; personalApiKey: PersonalApiKey | undefined }> {
    const request = await this.#stores.consents.get(consentId);
    if (!request) throw new ConnectFlowError('unknown_request', `There is no consent request "${consentId}"; the link may be mistyped.`);
    if (request.tenant !== user.tenant || request.subject !== user.subject) {
      throw new ConnectFlowError('wrong_user', `This link was made for another user's run. Sign out and sign in as that user, or ask your assistant again to get your own link.`);
    }
    if (request.status !== 'pending') {
      throw new ConnectFlowError('request_closed', `This consent request is already ${request.status}; ask your assistant to run the tool again for a new link.`);
    }
    return { tenant: request.tenant, subject: request.subject, app: request.app, appName: this.appName(request.app), personalApiKey: this.personalApiKeyOf(request.app) };
  }

  /** Where the app takes each user's own API key, when it is configured that way (else undefined). */
  personalApiKeyOf(app: string): PersonalApiKey | undefined {
    const credential = this.#settings.apps.get(app)?.credential;
    return credential?.mode === 'api_key' && credential.scope === 'individual' ? { in: credential.in, name: credential.name } : undefined;
  }

  /** Where to send `user` for the consent request a paused run raised; only the run's own user may use it. */
  async authorizeUrlForConsent(consentId: string, user: BrowserUser): Promise<URL> {
    const request = await this.openRequest(consentId, user);
    return this.authorizeUrl({ tenant: request.tenant, subject: request.subject, app: request.app }, user.sessionBinding, consentId);
  }

  /**
   * Stores the API key a user entered for an app that uses each user's own key: checked with the app
   * first (who does it belong to?), then kept encrypted and never shown again; the waiting runs resume.
   */
  async savePersonalApiKey(consentId: string, user: BrowserUser, key: string): Promise<CallbackResult> {
    const request = await this.openRequest(consentId, user);
    return this.#storePersonalApiKey({ tenant: request.tenant, subject: request.subject, app: request.app }, consentId, key);
  }

  /**
   * The same, entered on the user's connections page rather than through a paused run's consent link:
   * no consent request is involved, but every run of the user waiting on the app resumes all the same.
   */
  async savePersonalApiKeyFor(user: { tenant: string; subject: string }, app: string, key: string): Promise<CallbackResult> {
    return this.#storePersonalApiKey({ tenant: user.tenant, subject: user.subject, app }, null, key);
  }

  async #storePersonalApiKey(connection: ConnectionKey, consentId: string | null, key: string): Promise<CallbackResult> {
    const appName = this.appName(connection.app);
    const personalApiKey = this.personalApiKeyOf(connection.app);
    const connector = this.#settings.apps.get(connection.app)?.connector;
    if (!personalApiKey || !connector?.oauth) throw new ConnectFlowError('not_oauth_app', `${appName} does not take a personal API key.`);
    const presented = personalApiKey.in === 'header' ? { headers: { [personalApiKey.name.toLowerCase()]: key } } : { headers: {}, query: { [personalApiKey.name]: key } };
    const account = await this.#whoAmI(connector, presented, connection).catch((error: Error) => {
      throw new ConnectFlowError('rejected_key', `${appName} did not accept this key (${error.message}). Check it and try again.`);
    });
    await this.#stores.vault.putConnection({ ...connection, accessToken: key, scopes: [], externalAccountId: account.id, externalLogin: account.login });
    await this.#recordDecision(connection, consentId, 'granted', account.login);
    const resumedWorkflows = await resumeWaitingRuns(this.#client, this.#stores.consents, connection, 'granted');
    return { ...connection, outcome: 'connected', externalLogin: account.login, resumedWorkflows };
  }

  async authorizeUrl(key: ConnectionKey, sessionBinding: string, consentId: string | null = null): Promise<URL> {
    const { connector, client } = this.#oauthApp(key.app);
    const redirectUri = oauthRedirectUri(this.#settings, key.app);
    const { url, state, codeVerifier } = await client.startAuthorization(redirectUri, connector.oauth?.scopeSeparator ?? ' ');
    await this.#pending.add({ ...key, consentId, sessionBinding, state, codeVerifier, redirectUri });
    return url;
  }

  /** Handles the app's redirect back to Baton (`/oauth/callback/{app}?code=…&state=…` or `?error=access_denied`). */
  async handleCallback(app: string, callback: URL, sessionBinding: string): Promise<CallbackResult> {
    const taken = await this.#pending.take(callback.searchParams.get('state') ?? '', { app, sessionBinding });
    if (taken.kind === 'expired') throw new ConnectFlowError('expired_state', 'This sign-in took longer than 10 minutes and has expired. Open the consent link from your assistant again.');
    if (taken.kind === 'other_session') {
      throw new ConnectFlowError('other_session', 'This sign-in was started in another browser session, so it cannot be finished here. Open the consent link again in this browser.');
    }
    if (taken.kind !== 'ok') throw new ConnectFlowError('unknown_state', 'This sign-in link was already used or is not one Baton issued. Open the consent link from your assistant again.');
    const { pending } = taken;
    const key = { tenant: pending.tenant, subject: pending.subject, app: pending.app };
    const { connector, client } = this.#oauthApp(pending.app);
    const tokens = await client.finishAuthorization(callback, pending);
    if (tokens === 'denied') {
      await this.#recordDecision(key, pending.consentId, 'denied', null);
      return { ...key, outcome: 'denied', externalLogin: null, resumedWorkflows: await resumeWaitingRuns(this.#client, this.#stores.consents, key, 'denied') };
    }
    const account = await this.#whoAmI(connector, { headers: { authorization: `Bearer ${tokens.accessToken}` } }, key);
    await this.#stores.vault.putConnection({
      ...key,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt,
      scopes: tokens.scopes ?? this.#settings.apps.get(pending.app)?.scopes ?? [],
      externalAccountId: account.id,
      externalLogin: account.login,
    });
    await this.#recordDecision(key, pending.consentId, 'granted', account.login);
    const resumedWorkflows = await resumeWaitingRuns(this.#client, this.#stores.consents, key, 'granted');
    return { ...key, outcome: 'connected', externalLogin: account.login, resumedWorkflows };
  }

  /**
   * The user's answer on the app's consent screen (or Baton's key form), and the connection it made: the
   * trail shows who connected which account, and through which consent request.
   */
  async #recordDecision(key: ConnectionKey, consentId: string | null, decision: 'granted' | 'denied', externalLogin: string | null): Promise<void> {
    const actor = { tenant: key.tenant, subject: key.subject, email: null, name: null, authMethod: 'browser' };
    const request = consentId ? await this.#stores.consents.get(consentId) : undefined;
    const common = { actor, app: key.app, rootRunId: request?.rootWorkflowId ?? null, detail: { consentId } };
    if (consentId)
      await this.#stores.audit.record({
        ...common,
        kind: decision === 'granted' ? 'consent.granted' : 'consent.denied',
        outcome: decision,
        durationMs: request ? Date.now() - request.createdAt : null,
      });
    if (decision === 'granted') {
      await this.#stores.audit.record({
        ...common,
        kind: 'connection.connected',
        outcome: 'ok',
        credential: { mode: this.#settings.apps.get(key.app)?.mode ?? 'user_oauth', owner: 'user', externalAccount: externalLogin, reason: null },
      });
    }
  }

  #oauthApp(appId: string): { connector: AppConnector; client: OAuthAppClient } {
    const app = this.#settings.apps.get(appId);
    const client = this.#oauthClients.get(appId);
    if (!app || !client) throw new ConnectFlowError('not_oauth_app', `App "${appId}" is not connected through OAuth.`);
    return { connector: app.connector, client };
  }

  /** Records which account at the app the credential belongs to (e.g. GitHub login), for the audit trail. */
  async #whoAmI(connector: AppConnector, presented: { headers: Record<string, string>; query?: Record<string, string> }, user: { subject: string }) {
    const whoAmI = connector.oauth?.whoAmI;
    // MCP has no who-am-I: an upstream MCP server's connection is labelled with the Baton user it belongs to.
    if (!whoAmI) return { id: user.subject, login: user.subject };
    const { apiBaseUrl } = this.#settings.apps.get(connector.id)!.endpoints;
    const request = whoAmI.toRequest({});
    const { status, body } = await sendAppRequest(apiBaseUrl, { ...request, query: { ...request.query, ...presented.query } }, presented.headers);
    const answer = whoAmI.readAnswer(status, body);
    if (answer.kind !== 'ok') throw new Error(`${connector.displayName} did not say who the new token belongs to: ${answer.message}`);
    return answer.result;
  }
}
