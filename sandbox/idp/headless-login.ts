import * as oauth from 'oauth4webapi';
import { approveConsentOverHttp, CookieKeepingClient } from '../browserless-consent.ts';

/**
 * The walker that signs in and consents over HTTP: it drives the identity provider's pages exactly as it
 * drives the sandbox apps', including when the start URL is a page of Baton's that redirects to the IdP.
 */
export { approveConsentOverHttp, CookieKeepingClient } from '../browserless-consent.ts';

export interface SignInOverHttpOptions {
  /** The identity provider's issuer, e.g. `${sandbox.idpIssuer}`. */
  issuer: string;
  clientId: string;
  /** For a confidential client; omit for public clients such as `baton-cli`. */
  clientSecret?: string;
  /** How a confidential client sends its secret; must match its registration. Default HTTP Basic. */
  clientAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  redirectUri: string;
  /** RFC 8707 resource indicator: the access token's `aud`. */
  resource: string;
  /** Space-separated, e.g. "openid profile email mcp:tools". */
  scope: string;
  username: string;
  password: string;
  /** Reuse a cookie jar (e.g. to keep the IdP session); a fresh one by default. */
  client?: CookieKeepingClient;
}

export interface SignedIn {
  accessToken: string;
  expiresIn: number;
  refreshToken?: string;
}

/**
 * Gets an access token from the identity provider the way an MCP client does, without a browser:
 * discovery, authorization code with PKCE (S256) and `resource`, sign-in and consent over HTTP as the
 * given user, then the code exchange. `prompt=login consent` makes the named user sign in and approve
 * even when the cookie jar already holds a session.
 */
export async function signInOverHttp(options: SignInOverHttpOptions): Promise<SignedIn> {
  const insecure = { [oauth.allowInsecureRequests]: true }; // the sandbox is plain http on loopback
  const issuer = new URL(options.issuer);
  const server = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }));
  const client: oauth.Client = { client_id: options.clientId };
  const clientAuth =
    options.clientSecret === undefined
      ? oauth.None()
      : options.clientAuthMethod === 'client_secret_post'
        ? oauth.ClientSecretPost(options.clientSecret)
        : oauth.ClientSecretBasic(options.clientSecret);

  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const authorizeUrl = new URL(server.authorization_endpoint!);
  authorizeUrl.search = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    scope: options.scope,
    resource: options.resource,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    prompt: 'login consent',
  }).toString();

  const user = { username: options.username, password: options.password };
  const callback = await approveConsentOverHttp(authorizeUrl.href, user, 'approve', options.client ?? new CookieKeepingClient());
  const params = oauth.validateAuthResponse(server, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(server, client, clientAuth, params, options.redirectUri, codeVerifier, {
    ...insecure,
    additionalParameters: { resource: options.resource },
  });
  const tokens = await oauth.processAuthorizationCodeResponse(server, client, response);
  if (tokens.expires_in === undefined) throw new Error('The identity provider returned an access token without expires_in.');
  return {
    accessToken: tokens.access_token,
    expiresIn: tokens.expires_in,
    ...(tokens.refresh_token === undefined ? {} : { refreshToken: tokens.refresh_token }),
  };
}
