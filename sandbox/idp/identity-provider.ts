import express, { type Request, type Response, type Router } from 'express';
import type { JWK } from 'jose';
import Provider from 'oidc-provider';
import type { IdpConfidentialClient } from './clients.ts';
import { idpConfiguration } from './configuration.ts';
import { interactionRoutes } from './interactions.ts';
import { recordIssuedSecrets } from './issued-secrets.ts';
import { prepareSigningKeys } from './signing-keys.ts';

export type { IdpConfidentialClient } from './clients.ts';
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
}

/**
 * Discovery paths clients probe outside the issuer path. RFC 8414 inserts the well-known segment before
 * the issuer's path (MCP clients try that first); OpenID Connect appends it, and some clients insert it.
 */
const discoveryAliases = [
  `/.well-known/oauth-authorization-server${idpPath}`,
  `/.well-known/openid-configuration${idpPath}`,
  `${idpPath}/.well-known/oauth-authorization-server`,
];

/**
 * The sandbox's identity provider: an OpenID Connect / OAuth 2.1 server (oidc-provider) whose users are
 * the demo users, for people signing in to Baton and for MCP clients getting tokens for Baton's MCP
 * endpoint. All its state lives in this instance.
 */
export async function createIdentityProvider(options: IdpOptions & { sandboxUrl: string; onIssued(secret: string): void }): Promise<IdentityProvider> {
  const issuer = `${options.sandboxUrl}${idpPath}`;
  const batonClient = options.clients?.baton;
  const provider = new Provider(
    issuer,
    idpConfiguration({
      basePath: idpPath,
      signing: await prepareSigningKeys(options.signingKeys),
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
      batonClient,
    }),
  );
  recordIssuedSecrets(provider, options.onIssued);
  if (batonClient) options.onIssued(batonClient.clientSecret);

  const handle = provider.callback();
  const router = express.Router();
  router.use(idpPath, interactionRoutes(provider));
  router.get(discoveryAliases, (req: Request, res: Response) => {
    // oidc-provider derives its mount path from originalUrl minus url, so both name the canonical document.
    req.url = '/.well-known/openid-configuration';
    req.originalUrl = `${idpPath}${req.url}`;
    return handle(req, res);
  });
  // The provider parses its own request bodies, so nothing in front of it may consume them.
  router.use(idpPath, (req: Request, res: Response) => handle(req, res));
  return { issuer, router };
}
