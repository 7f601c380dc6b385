import express, { type Router } from 'express';

/** An OAuth-protected MCP endpoint as the MCP authorization spec describes it (RFC 9728 + RFC 6750). */
export interface ProtectedResource {
  /** The MCP endpoint's URL: the RFC 8707 resource indicator and the audience of its tokens. */
  resource: string;
  /** Its authorization server's issuer. */
  authorizationServer: string;
  scopes: readonly string[];
  /** Shown by clients that display the resource. */
  name: string;
}

/** RFC 9728 §3.1: the well-known segment goes between the host and the resource's path. */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}`;
}

/** The metadata document (RFC 9728 §2) an MCP client finds through the 401 challenge. */
export function protectedResourceMetadata(resource: ProtectedResource): Record<string, unknown> {
  return {
    resource: resource.resource,
    authorization_servers: [resource.authorizationServer],
    scopes_supported: [...resource.scopes],
    bearer_methods_supported: ['header'],
    resource_name: resource.name,
  };
}

/** Serves the metadata document at its path-inserted well-known URL, readable cross-origin (browser-based clients). */
export function protectedResourceRouter(resource: ProtectedResource): Router {
  const router = express.Router();
  router.get(new URL(protectedResourceMetadataUrl(resource.resource)).pathname, (_req, res) => {
    res.set('Access-Control-Allow-Origin', '*').json(protectedResourceMetadata(resource));
  });
  return router;
}

export interface BearerRefusal {
  error: 'invalid_token';
  description: string;
}

/**
 * The `WWW-Authenticate` value of a 401 (RFC 6750 §3, MCP authorization spec): `resource_metadata` first,
 * so a client finds the authorization server; the scopes to ask for; and `error` only when a token was
 * sent, since a request without any credential gets no error code (RFC 6750 §3.1).
 */
export function bearerChallenge(resource: ProtectedResource, refusal?: BearerRefusal): string {
  const params = [`resource_metadata="${protectedResourceMetadataUrl(resource.resource)}"`, `scope="${resource.scopes.join(' ')}"`];
  if (refusal) params.push(`error="${refusal.error}"`, `error_description="${quotable(refusal.description)}"`);
  return `Bearer ${params.join(', ')}`;
}

/** RFC 6750's error-description: printable ASCII without `"` and `\`. */
function quotable(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, ' ');
}
