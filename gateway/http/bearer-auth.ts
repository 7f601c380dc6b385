import type { RequestHandler, Response } from 'express';
import { InboundAuthError, requireScopes, type AccessTokenVerifier } from '../auth/access-token-verifier.ts';
import { isApiToken, type ApiTokenStore } from '../../core/api-tokens/api-token-store.ts';
import type { Principal } from '../auth/principal.ts';
import type { RequestExtras } from '../mcp/mcp-server.ts';

export interface BearerAuthOptions {
  verifier: AccessTokenVerifier;
  apiTokens: ApiTokenStore;
  requiredScopes: string[];
  /** RFC 9728 metadata URL, advertised in every challenge so clients find the authorization server. */
  resourceMetadataUrl: string;
  resourceUrl: string;
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/**
 * OAuth 2.1 resource-server gate for the MCP endpoint: a bearer JWT from the identity provider (or a
 * Baton API token) or nothing gets through. On success `req.auth` carries the caller for the MCP layer.
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) {
      challenge(
        res,
        401,
        { resource_metadata: options.resourceMetadataUrl },
        'invalid_request',
        `This endpoint needs a bearer token. Sign in through your MCP client (it discovers the identity provider at ${options.resourceMetadataUrl}) or use an API token.`,
      );
      return;
    }
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/.exec(header);
    if (!match) {
      challenge(res, 401, { error: 'invalid_token', resource_metadata: options.resourceMetadataUrl }, 'invalid_token', 'The Authorization header must be "Bearer <token>".');
      return;
    }
    const token = match[1]!;
    try {
      const principal = await authenticate(token, options);
      const extras: RequestExtras = { principal };
      req.auth = {
        token,
        clientId: principal.clientId ?? principal.subject,
        scopes: principal.scopes,
        expiresAt: principal.expiresAt ?? undefined,
        resource: new URL(options.resourceUrl),
        extra: extras as unknown as Record<string, unknown>,
      };
      next();
    } catch (error) {
      if (!(error instanceof InboundAuthError)) {
        next(error);
        return;
      }
      if (error.code === 'auth_unavailable') {
        res.status(503).set('Retry-After', '5').json({ error: 'temporarily_unavailable', error_description: error.message });
        return;
      }
      const attributes: Record<string, string> = { error: error.code, resource_metadata: options.resourceMetadataUrl };
      if (error.code === 'insufficient_scope') attributes.scope = error.requiredScopes.join(' ');
      challenge(res, error.status, attributes, error.code, error.message);
    }
  };
}

async function authenticate(token: string, options: BearerAuthOptions): Promise<Principal> {
  if (isApiToken(token)) {
    const principal = await options.apiTokens.authenticate(token);
    if (!principal) throw new InboundAuthError('invalid_token', 'The API token is unknown or has been revoked. Ask an admin for a new one (`baton api-token create <name>`).');
    return principal;
  }
  const principal = await options.verifier.verify(token);
  requireScopes(principal, options.requiredScopes);
  return principal;
}

function challenge(res: Response, status: number, attributes: Record<string, string>, error: string, description: string): void {
  const parts = Object.entries(attributes).map(([name, value]) => `${name}=${quoted(value)}`);
  res
    .status(status)
    .set('WWW-Authenticate', `Bearer ${parts.join(', ')}`)
    .json({ error, error_description: description });
}
