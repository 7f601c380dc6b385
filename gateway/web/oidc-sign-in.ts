import * as oauth from 'oauth4webapi';
import type { GatewaySettings } from '../../core/config/gateway-settings.ts';

export interface SignedInUser {
  tenant: string;
  subject: string;
  email: string | null;
  name: string | null;
}

export class SignInError extends Error {
  override name = 'SignInError';
}

const isLoopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

/**
 * Signs browser users in at the configured identity provider (OpenID Connect, authorization code +
 * PKCE + nonce, through oauth4webapi), so the consent pages know who is at the keyboard.
 */
export class OidcSignIn {
  readonly #settings: GatewaySettings;
  readonly #redirectUri: string;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #options: { [oauth.allowInsecureRequests]?: boolean };
  #server: Promise<oauth.AuthorizationServer> | undefined;

  constructor(settings: GatewaySettings, publicUrl: string) {
    this.#settings = settings;
    this.#redirectUri = `${publicUrl}/auth/callback`;
    this.#client = { client_id: settings.identityProvider.browserClient.clientId };
    this.#auth = oauth.ClientSecretBasic(settings.identityProvider.browserClient.clientSecret);
    // Plain HTTP only for an identity provider on this machine (the sandbox's).
    this.#options = { [oauth.allowInsecureRequests]: isLoopback(settings.identityProvider.issuer) };
  }

  /** The identity provider's authorize URL for a fresh sign-in, and what the callback must check. */
  async start(): Promise<{ url: URL; state: string; codeVerifier: string; nonce: string }> {
    const server = await this.#discover();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(server.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.#client.client_id,
      redirect_uri: this.#redirectUri,
      scope: 'openid profile email',
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).toString();
    return { url, state, codeVerifier, nonce };
  }

  /** Checks the identity provider's answer and returns who signed in. */
  async finish(callback: URL, expected: { state: string; codeVerifier: string; nonce: string }): Promise<SignedInUser> {
    const server = await this.#discover();
    let parameters: URLSearchParams;
    try {
      parameters = oauth.validateAuthResponse(server, this.#client, callback, expected.state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError)
        throw new SignInError(`The identity provider did not sign you in (${error.error}${error.error_description ? `: ${error.error_description}` : ''}).`);
      throw error;
    }
    const response = await oauth.authorizationCodeGrantRequest(server, this.#client, this.#auth, parameters, this.#redirectUri, expected.codeVerifier, this.#options);
    const result = await oauth.processAuthorizationCodeResponse(server, this.#client, response, { expectedNonce: expected.nonce, requireIdToken: true });
    const claims = oauth.getValidatedIdTokenClaims(result)!;
    const text = (value: unknown) => (typeof value === 'string' && value ? value : null);
    return { tenant: text(claims.tenant) ?? this.#settings.defaultTenant, subject: claims.sub, email: text(claims.email), name: text(claims.name) };
  }

  #discover(): Promise<oauth.AuthorizationServer> {
    this.#server ??= (async () => {
      const issuer = new URL(this.#settings.identityProvider.issuer);
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...this.#options });
      return oauth.processDiscoveryResponse(issuer, response);
    })().catch((error: unknown) => {
      this.#server = undefined; // try again on the next sign-in rather than caching the failure
      throw new SignInError(`Cannot reach the identity provider at ${this.#settings.identityProvider.issuer} (${(error as Error).message}). Try again shortly.`);
    });
    return this.#server;
  }
}
