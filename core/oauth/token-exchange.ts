import * as oauth from 'oauth4webapi';
import { isLoopbackOrHttps } from './oauth-client.ts';
import { ExpiringTokenCache, type ExpiringToken } from './token-cache.ts';

export interface TokenExchangeRequest {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  subjectToken: string;
  resource?: string;
  audience?: string;
  scopes: string[];
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * On-behalf-of (RFC 8693): trades the caller's token at the identity provider for one meant for one app,
 * still naming the caller. Exchanged tokens are kept per caller token and app until near expiry, and
 * concurrent calls share one exchange.
 */
export class TokenExchanges {
  readonly #tokens = new ExpiringTokenCache(() => 30_000);

  token(key: string, request: TokenExchangeRequest): Promise<string> {
    return this.#tokens.get(key, () => exchange(request));
  }
}

async function exchange(request: TokenExchangeRequest): Promise<ExpiringToken> {
  const server: oauth.AuthorizationServer = { issuer: new URL(request.tokenUrl).origin, token_endpoint: request.tokenUrl };
  const client: oauth.Client = { client_id: request.clientId };
  const parameters: Record<string, string> = { subject_token: request.subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, requested_token_type: ACCESS_TOKEN_TYPE };
  if (request.resource) parameters.resource = request.resource;
  if (request.audience) parameters.audience = request.audience;
  if (request.scopes.length) parameters.scope = request.scopes.join(' ');
  const options = { [oauth.allowInsecureRequests]: isLoopbackOrHttps(request.tokenUrl) };
  const response = await oauth.genericTokenEndpointRequest(server, client, oauth.ClientSecretBasic(request.clientSecret), TOKEN_EXCHANGE, parameters, options);
  const result = await oauth.processGenericTokenEndpointResponse(server, client, response);
  const lifetimeMs = (result.expires_in ?? 300) * 1000;
  return { token: result.access_token, expiresAt: Date.now() + lifetimeMs, lifetimeMs };
}
