import { randomBytes } from 'node:crypto';
import type { Configuration } from 'oidc-provider';
import { findUser } from '../users.ts';
import { claimsByScope, findAccount, identityClaimsOf } from './accounts.ts';
import { fetchClientMetadataDocument } from './client-metadata-documents.ts';
import { preRegisteredClients, type IdpConfidentialClient } from './clients.ts';
import { createMemoryAdapter } from './memory-adapter.ts';
import { resourceServerInfo } from './resources.ts';
import type { SigningKeys } from './signing-keys.ts';
import { sandboxProviderDefaults } from './provider-defaults.ts';

/**
 * oidc-provider's settings for the sandbox: OAuth 2.1 (authorization code with S256 PKCE for every
 * client, nothing implicit), resource indicators with JWT access tokens, open dynamic registration, and
 * dev-friendly choices for a plain-http loopback server. Token exchange is registered on the provider
 * afterwards (token-exchange.ts); only the `act` claim of its tokens is added here. Every helper the library warns about when left
 * at its default is set here, so starting a sandbox prints nothing.
 */
export function idpConfiguration(options: {
  /** Where the interaction pages are mounted: the issuer's path, e.g. "/idp". */
  basePath: string;
  signing: SigningKeys;
  accessTokenTtlSeconds: number;
  batonClient?: IdpConfidentialClient;
  /** The `act` claim of a token issued by token exchange (see token-exchange.ts). */
  actorClaimOf(token: object): unknown;
}): Configuration {
  const { signing, accessTokenTtlSeconds } = options;
  return {
    adapter: createMemoryAdapter({ findUnknownClient: fetchClientMetadataDocument }),
    clients: preRegisteredClients(options.batonClient),
    jwks: { keys: signing.keys as NonNullable<Configuration['jwks']>['keys'] },
    // Random per instance: sessions do not outlive the sandbox that made them.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount,
    claims: claimsByScope,
    // profile and email come from `claims`; these are the scopes with no claims of their own.
    scopes: ['openid', 'offline_access', 'mcp:tools'],
    // ID tokens carry every claim the scopes grant, so Baton's sign-in need not call userinfo.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: signing.alg,
    },
    // Browser-based MCP clients (inspectors) call the token endpoint cross-origin; anything goes on loopback.
    clientBasedCORS: () => true,
    interactions: { url: (_ctx, interaction) => `${options.basePath}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        // A client that asked for one resource at /authorize gets a token for it even with openid in scope.
        useGrantedResource: () => true,
        getResourceServerInfo: resourceServerInfo(signing, accessTokenTtlSeconds),
      },
    },
    // Who the caller is travels in the access token itself: resource servers need no userinfo call.
    extraTokenClaims: (_ctx, token) => {
      const user = 'accountId' in token && token.accountId ? findUser(token.accountId) : undefined;
      if (!user) return undefined;
      const { sub: _sub, email_verified: _verified, ...claims } = identityClaimsOf(user);
      const act = options.actorClaimOf(token);
      return act === undefined ? claims : { ...claims, act };
    },
    ...sandboxProviderDefaults(accessTokenTtlSeconds),
  };
}
