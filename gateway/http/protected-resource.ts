import express, { type Router } from 'express';

/** Where a resource's RFC 9728 metadata lives: the well-known prefix inserted before its path. */
export function protectedResourceMetadataUrl(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}`;
}

/**
 * RFC 9728 protected resource metadata, at both the path-suffixed location (what the MCP spec's
 * clients derive from `/mcp`) and the bare one: it names the authorization server that issues tokens
 * for Baton, so an OAuth-capable MCP client can sign in on its own.
 */
export function protectedResourceRoutes(options: { resourceUrl: string; issuer: string; scopes: string[] }): Router {
  const router = express.Router();
  const document = {
    resource: options.resourceUrl,
    authorization_servers: [options.issuer],
    scopes_supported: options.scopes,
    bearer_methods_supported: ['header'],
    resource_name: 'Baton',
  };
  const path = new URL(protectedResourceMetadataUrl(options.resourceUrl)).pathname;
  router.get([path, '/.well-known/oauth-protected-resource'], (_req, res) => {
    res.set('Access-Control-Allow-Origin', '*').json(document);
  });
  return router;
}
