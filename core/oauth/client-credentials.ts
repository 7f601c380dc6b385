import * as oauth from 'oauth4webapi';
import { isLoopbackOrHttps } from './oauth-client.ts';
import { ExpiringTokenCache, type ExpiringToken } from './token-cache.ts';

export interface ClientCredentialsGrant {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** RFC 8707 resource indicator: the API the token is for (an upstream MCP server's URL). */
  resource?: string;
}

/**
 * Tokens from the OAuth client-credentials grant (oauth4webapi), one per app and client: kept until the
 * last tenth of their life (at most a minute before expiry), then fetched again once.
 */
export class ClientCredentialsTokens {
  // The margin scales with the lifetime the token came with, so short-lived tokens are still reused.
  readonly #tokens = new ExpiringTokenCache((token) => Math.min(60_000, token.lifetimeMs / 10));

  token(key: string, grant: ClientCredentialsGrant): Promise<string> {
    return this.#tokens.get(key, () => fetchToken(grant));
  }
}

async function fetchToken(grant: ClientCredentialsGrant): Promise<ExpiringToken> {
  const server: oauth.AuthorizationServer = { issuer: new URL(grant.tokenUrl).origin, token_endpoint: grant.tokenUrl };
  const client: oauth.Client = { client_id: grant.clientId };
  const options = { [oauth.allowInsecureRequests]: isLoopbackOrHttps(grant.tokenUrl) };
  const parameters: Record<string, string> = { ...(grant.scopes.length ? { scope: grant.scopes.join(' ') } : {}), ...(grant.resource ? { resource: grant.resource } : {}) };
  const response = await oauth.clientCredentialsGrantRequest(server, client, oauth.ClientSecretBasic(grant.clientSecret), parameters, options);
  const result = await oauth.processClientCredentialsResponse(server, client, response);
  const lifetimeMs = (result.expires_in ?? 3600) * 1000;
  return { token: result.access_token, expiresAt: Date.now() + lifetimeMs, lifetimeMs };
}
