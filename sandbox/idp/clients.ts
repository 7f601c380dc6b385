import type { ClientMetadata } from 'oidc-provider';
import { tokenExchangeGrantType } from './token-exchange.ts';

/** Baton's own browser sign-in: a confidential web client. */
export interface IdpConfidentialClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** How it authenticates at the token endpoint; oidc-provider accepts only the registered one. Default HTTP Basic. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

/**
 * The public client the command line mints tokens with: PKCE, no secret, and a loopback redirect whose
 * port is ignored when matching (RFC 8252 §7.3, because the CLI listens on whatever port is free).
 */
export const cliClient = { clientId: 'baton-cli', redirectUri: 'http://127.0.0.1/cli-callback' } as const;

/** The clients that exist before anyone registers; every other client registers itself (RFC 7591). */
export function preRegisteredClients(baton: IdpConfidentialClient | undefined): ClientMetadata[] {
  const clients: ClientMetadata[] = [
    {
      client_id: cliClient.clientId,
      client_name: 'Baton CLI',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: [cliClient.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
  ];
  if (baton) {
    clients.push({
      client_id: baton.clientId,
      client_secret: baton.clientSecret,
      client_name: 'Baton',
      application_type: 'web',
      token_endpoint_auth_method: baton.tokenEndpointAuthMethod ?? 'client_secret_basic',
      redirect_uris: baton.redirectUris,
      // Token exchange: Baton trades a user's token for one scoped to an app's API (token-exchange.ts).
      grant_types: ['authorization_code', 'refresh_token', tokenExchangeGrantType],
      response_types: ['code'],
    });
  }
  return clients;
}
