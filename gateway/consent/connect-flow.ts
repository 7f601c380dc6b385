import type { Client } from '@temporalio/client';
import { connectors, type AppConnector } from '../../apps/index.ts';
import { oauthRedirectUri, type BatonSettings } from '../../core/config/settings.ts';
import { PendingAuthorizations } from '../../core/consent/pending-authorizations.ts';
import { sendAppRequest } from '../../core/http/app-request.ts';
import { AppOAuthClient } from '../../core/oauth/oauth-client.ts';
import type { BatonStores } from '../../core/stores.ts';
import { resumeWaitingRuns, type ConnectionKey } from './resume-runs.ts';

export class ConnectFlowError extends Error {
  override name = 'ConnectFlowError';
}

export interface CallbackResult extends ConnectionKey {
  outcome: 'connected' | 'denied';
  externalLogin: string | null;
  resumedWorkflows: string[];
}

/**
 * Connecting a user's app account: the authorize URL (PKCE + state) and the callback that stores the
 * connection in the vault and resumes every run of that user waiting on the app.
 */
export class ConnectFlow {
  readonly #settings: BatonSettings;
  readonly #stores: BatonStores;
  readonly #client: Client;
  readonly #pending: PendingAuthorizations;

  constructor(settings: BatonSettings, stores: BatonStores, client: Client) {
    this.#settings = settings;
    this.#stores = stores;
    this.#client = client;
    this.#pending = new PendingAuthorizations(stores.db);
  }

  /** Where to send the user for a consent request a paused run raised. */
  async authorizeUrlForConsent(consentId: string): Promise<URL> {
    const request = this.#stores.consents.get(consentId);
    if (!request) throw new ConnectFlowError(`There is no consent request "${consentId}"; the link may be mistyped.`);
    if (request.status !== 'pending') throw new ConnectFlowError(`This consent request is already ${request.status}; run the tool again for a new link.`);
    return this.authorizeUrl(request);
  }

  async authorizeUrl(key: ConnectionKey): Promise<URL> {
    const { connector, client } = this.#oauthApp(key.app);
    const redirectUri = oauthRedirectUri(this.#settings);
    const { url, state, codeVerifier } = await client.startAuthorization(redirectUri, connector.oauth?.scopeSeparator ?? ' ');
    this.#pending.add({ ...key, state, codeVerifier, redirectUri });
    return url;
  }

  /** Handles the app's redirect back to Baton (`/oauth/callback?code=…&state=…` or `?error=access_denied`). */
  async handleCallback(callback: URL): Promise<CallbackResult> {
    const state = callback.searchParams.get('state');
    const pending = state ? this.#pending.take(state) : undefined;
    if (!pending) throw new ConnectFlowError('This sign-in link has expired or was already used; open the consent link from the tool again.');
    const key = { tenant: pending.tenant, subject: pending.subject, app: pending.app };
    const { connector, client } = this.#oauthApp(pending.app);
    const tokens = await client.finishAuthorization(callback, pending);
    if (tokens === 'denied') {
      return { ...key, outcome: 'denied', externalLogin: null, resumedWorkflows: await resumeWaitingRuns(this.#client, this.#stores.consents, key, 'denied') };
    }
    const account = await this.#whoAmI(connector, tokens.accessToken);
    this.#stores.vault.putConnection({
      ...key,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt,
      scopes: tokens.scopes ?? this.#settings.apps.get(pending.app)?.scopes ?? [],
      externalAccountId: account.id,
      externalLogin: account.login,
    });
    const resumedWorkflows = await resumeWaitingRuns(this.#client, this.#stores.consents, key, 'granted');
    return { ...key, outcome: 'connected', externalLogin: account.login, resumedWorkflows };
  }

  #oauthApp(appId: string): { connector: AppConnector; client: AppOAuthClient } {
    const connector = connectors.get(appId);
    const app = this.#settings.apps.get(appId);
    if (!connector?.oauth || !app) throw new ConnectFlowError(`App "${appId}" is not connected through OAuth.`);
    return { connector, client: new AppOAuthClient(app) };
  }

  /** Records which account at the app the token belongs to (e.g. GitHub login), for the audit trail. */
  async #whoAmI(connector: AppConnector, accessToken: string) {
    const whoAmI = connector.oauth!.whoAmI;
    const { apiBaseUrl } = this.#settings.apps.get(connector.id)!.endpoints;
    const { status, body } = await sendAppRequest(apiBaseUrl, whoAmI.toRequest({}), { authorization: `Bearer ${accessToken}` });
    const answer = whoAmI.readAnswer(status, body);
    if (answer.kind !== 'ok') throw new ConnectFlowError(`${connector.displayName} did not say who the new token belongs to: ${answer.message}`);
    return answer.result;
  }
}
