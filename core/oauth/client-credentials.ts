import * as oauth from 'oauth4webapi';
import { isLoopbackOrHttps } from './oauth-client.ts';

export interface ClientCredentialsGrant {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
  lifetimeMs: number;
}

/**
 * Tokens from the OAuth client-credentials grant (oauth4webapi), one per app and grant: kept until near
 * expiry (the last tenth of their life, at most a minute), then fetched again — once, however many calls
 * need it at that moment (single flight within the process).
 */
export class ClientCredentialsTokens {
  readonly #cache = new Map<string, CachedToken>();
  readonly #inFlight = new Map<string, Promise<CachedToken>>();

  async token(key: string, grant: ClientCredentialsGrant): Promise<string> {
    const cached = this.#cache.get(key);
    if (cached && Date.now() < cached.expiresAt - Math.min(60_000, cached.lifetimeMs / 10)) return cached.accessToken;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = fetchToken(grant).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    const fresh = await pending;
    this.#cache.set(key, fresh);
    return fresh.accessToken;
  }
}

async function fetchToken(grant: ClientCredentialsGrant): Promise<CachedToken> {
  const server: oauth.AuthorizationServer = { issuer: new URL(grant.tokenUrl).origin, token_endpoint: grant.tokenUrl };
  const client: oauth.Client = { client_id: grant.clientId };
  const options = { [oauth.allowInsecureRequests]: isLoopbackOrHttps(grant.tokenUrl) };
  const parameters: Record<string, string> = grant.scopes.length ? { scope: grant.scopes.join(' ') } : {};
  const response = await oauth.clientCredentialsGrantRequest(server, client, oauth.ClientSecretBasic(grant.clientSecret), parameters, options);
  const result = await oauth.processClientCredentialsResponse(server, client, response);
  const lifetimeMs = (result.expires_in ?? 3600) * 1000;
  return { accessToken: result.access_token, expiresAt: Date.now() + lifetimeMs, lifetimeMs };
}
