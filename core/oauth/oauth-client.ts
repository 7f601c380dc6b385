import * as oauth from 'oauth4webapi';
import type { AppSettings } from '../config/settings.ts';
import { RefreshRejectedError } from '../vault/index.ts';

import type { OAuthAppClient, TokenSet } from './oauth-app-client.ts';

export type { TokenSet } from './oauth-app-client.ts';

/**
 * OAuth 2.1 client for one app (oauth4webapi does the protocol work: PKCE, response validation,
 * error parsing). Plain-HTTP endpoints are accepted only on loopback, i.e. the local sandbox.
 */
export class AppOAuthClient implements OAuthAppClient {
  readonly #server: oauth.AuthorizationServer;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #options: { [oauth.allowInsecureRequests]?: boolean };
  readonly #app: AppSettings;

  constructor(app: AppSettings) {
    const { authorizeUrl, tokenUrl, revokeUrl } = app.endpoints;
    if (!authorizeUrl || !tokenUrl) throw new Error(`App "${app.id}" has no OAuth endpoints configured (authorize and token URLs).`);
    if (!app.client) throw new Error(`App "${app.id}" has no OAuth client: set BATON_${app.id.toUpperCase()}_CLIENT_ID and _CLIENT_SECRET.`);
    this.#app = app;
    this.#server = { issuer: new URL(authorizeUrl).origin, authorization_endpoint: authorizeUrl, token_endpoint: tokenUrl, revocation_endpoint: revokeUrl };
    this.#client = { client_id: app.client.clientId };
    this.#auth = oauth.ClientSecretPost(app.client.clientSecret);
    this.#options = { [oauth.allowInsecureRequests]: [authorizeUrl, tokenUrl].every(isLoopbackOrHttps) };
  }

  /** A fresh PKCE verifier and state, and the authorize URL that carries their public halves. */
  async startAuthorization(redirectUri: string, scopeSeparator: string): Promise<{ url: URL; state: string; codeVerifier: string }> {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(this.#server.authorization_endpoint as string);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.#client.client_id,
      redirect_uri: redirectUri,
      scope: this.#app.scopes.join(scopeSeparator),
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).toString();
    return { url, state, codeVerifier };
  }

  /**
   * Validates the redirect back from the app and exchanges the code. Returns `denied` when the user
   * pressed Deny; throws for anything malformed.
   */
  async finishAuthorization(callback: URL, expected: { state: string; codeVerifier: string; redirectUri: string }): Promise<TokenSet | 'denied'> {
    let parameters: URLSearchParams;
    try {
      parameters = oauth.validateAuthResponse(this.#server, this.#client, callback, expected.state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError && error.error === 'access_denied') return 'denied';
      throw error;
    }
    const response = await oauth.authorizationCodeGrantRequest(this.#server, this.#client, this.#auth, parameters, expected.redirectUri, expected.codeVerifier, this.#options);
    return toTokenSet(await oauth.processAuthorizationCodeResponse(this.#server, this.#client, response));
  }

  /** Uses a refresh token; an `invalid_grant` answer becomes RefreshRejectedError (the user must consent again). */
  async refresh(refreshToken: string): Promise<TokenSet> {
    try {
      const response = await oauth.refreshTokenGrantRequest(this.#server, this.#client, this.#auth, refreshToken, this.#options);
      return toTokenSet(await oauth.processRefreshTokenResponse(this.#server, this.#client, response));
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && (error.error === 'invalid_grant' || error.error === 'bad_refresh_token')) {
        throw new RefreshRejectedError(`${this.#app.id} rejected the refresh token (${error.error}${error.error_description ? `: ${error.error_description}` : ''}).`);
      }
      throw error;
    }
  }
}

function toTokenSet(response: oauth.TokenEndpointResponse): TokenSet {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    expiresAt: response.expires_in ? Date.now() + response.expires_in * 1000 : undefined,
    scopes: response.scope?.split(/[ ,]+/).filter(Boolean),
  };
}

export function isLoopbackOrHttps(address: string): boolean {
  const { protocol, hostname } = new URL(address);
  return protocol === 'https:' || hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}
