import express, { type Request, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';
import { interactionRoutes } from './interactions.ts';

/**
 * Mounts an oidc-provider instance at `path` on the sandbox root: its sign-in and consent pages, the
 * provider itself, and the discovery documents' aliases outside the issuer path. RFC 8414 inserts the
 * well-known segment before the issuer's path (MCP clients try that first); OpenID Connect appends it,
 * and some clients insert it. Shared by the identity provider (/idp) and the notes upstream's own
 * authorization server (/notes-auth).
 */
export function providerRouter(provider: Provider, path: string, options: { providerName?: string } = {}): Router {
  const discoveryAliases = [`/.well-known/oauth-authorization-server${path}`, `/.well-known/openid-configuration${path}`, `${path}/.well-known/oauth-authorization-server`];
  const handle = provider.callback();
  const router = express.Router();
  router.use(path, interactionRoutes(provider, options));
  router.get(discoveryAliases, (req: Request, res: Response) => {
    // oidc-provider derives its mount path from originalUrl minus url, so both name the canonical document.
    req.url = '/.well-known/openid-configuration';
    req.originalUrl = `${path}${req.url}`;
    return handle(req, res);
  });
  // The provider parses its own request bodies, so nothing in front of it may consume them.
  router.use(path, (req: Request, res: Response) => handle(req, res));
  return router;
}
