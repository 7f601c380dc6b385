import type { Router } from 'express';
import type { JSONWebKeySet, JWK } from 'jose';
import Provider from 'oidc-provider';
import { createIdpAccessTokenVerifier, type IdpAccessTokenVerifier } from './access-tokens.ts';
import type { IdpConfidentialClient } from './clients.ts';
import { idpConfiguration } from './configuration.ts';
import { recordIssuedSecrets } from './issued-secrets.ts';
import { resourceServerInfo } from './resources.ts';
import { providerRouter } from './provider-router.ts';
import { prepareSigningKeys, publicJwks } from './signing-keys.ts';
import { createTokenExchange } from './token-exchange.ts';

export type { IdpConfidentialClient } from './clients.ts';
export type { IdpAccessTokenCheck, IdpAccessTokenVerifier } from './access-tokens.ts';
export { cliClient } from './clients.ts';

/** Where the identity provider lives on the sandbox server; its issuer is the sandbox URL plus this. */
export const idpPath = '/idp';

export interface IdpOptions {
  /** Pre-registered clients besides the public `baton-cli`; everyone else registers dynamically. */
  clients?: { baton?: IdpConfidentialClient };
  /** Private JWKs (first one signs); a test that passes one can sign look-alike tokens itself. Default: one new ES256 key. */
  signingKeys?: JWK[];
  /** Lifetime of access tokens, JWT or opaque. Default 3600. */
  accessTokenTtlSeconds?: number;
}

export interface IdentityProvider {
  /** `${sandboxUrl}/idp`. */
  issuer: string;
  /** Mounted at the sandbox root: everything under /idp plus the discovery documents' root aliases. */
  router: Router;
  /** What `${issuer}/jwks` publishes. */
  jwks: JSONWebKeySet;
  /** Checks an access token of this provider in-process, as the sandbox's own resource servers do. */
  verifyAccessToken: IdpAccessTokenVerifier;
}

/**
 * The sandbox's identity provider: an OpenID Connect / OAuth 2.1 server (oidc-provider) whose users are
 * the demo users, for people signing in to Baton, for MCP clients getting tokens for Baton's MCP
 * endpoint, and for Baton exchanging a user's token for one to an app's API (RFC 8693, token-exchange.ts).
 * All its state lives in this instance.
 */
export async function createIdentityProvider(options: IdpOptions & { sandboxUrl: string; onIssued: (secret: string) => void }): Promise<IdentityProvider> {
  const issuer = `${options.sandboxUrl}${idpPath}`;
  const batonClient = options.clients?.baton;
  const signing = await prepareSigningKeys(options.signingKeys);
  const accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 3600;
  const jwks = publicJwks(signing);
  const verifyAccessToken = createIdpAccessTokenVerifier({ issuer, jwks });
  const tokenExchange = createTokenExchange({
    trustedClientIds: batonClient ? [batonClient.clientId] : [],
    verifySubjectToken: verifyAccessToken,
    resourceServerInfo: resourceServerInfo(signing, accessTokenTtlSeconds),
  });
  const provider = new Provider(issuer, idpConfiguration({ basePath: idpPath, signing, accessTokenTtlSeconds, batonClient, actorClaimOf: tokenExchange.actorClaimOf }));
  tokenExchange.register(provider);
  recordIssuedSecrets(provider, options.onIssued);
  if (batonClient) options.onIssued(batonClient.clientSecret);

  const router = providerRouter(provider, idpPath);
  return { issuer, router, jwks, verifyAccessToken };
}
