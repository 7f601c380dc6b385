import type { RequestHandler } from 'express';
import { createHash } from 'node:crypto';
import type { ServerAuthConfig } from '../../core/config/file/schema.ts';
import { UNVERIFIED_ISSUER } from '../../core/identity/context.ts';
import { createAccessTokenVerifier, InboundAuthError } from '../auth/access-token-verifier.ts';
import type { Principal } from '../auth/principal.ts';
import type { RequestExtras } from '../mcp/mcp-server.ts';

type PassthroughAuth = Extract<ServerAuthConfig, { mode: 'passthrough' }>;

/**
 * A passthrough MCP server: Baton keeps what the caller sends (its bearer token, for apps in
 * `passthrough` mode that trust it) instead of running its own sign-in. With JWT validation on, a
 * missing or invalid token is refused and the caller is who the token names; without it, every caller
 * is anonymous, which has no personal connections at all.
 */
export function passthroughAuth(config: PassthroughAuth, { defaultTenant, homeIssuer }: { defaultTenant: string; homeIssuer: string }): RequestHandler {
  const verifier = config.jwt
    ? createAccessTokenVerifier({ issuer: config.jwt.issuer, audience: config.jwt.audience, jwks: config.jwt.jwks ?? { url: config.jwt.jwksUrl! }, defaultTenant, homeIssuer })
    : undefined;
  return async (req, res, next) => {
    const token = /^Bearer +(\S+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
    let principal: Principal;
    if (verifier) {
      try {
        principal = { ...(await verifier.verify(token)), authMethod: 'passthrough' };
      } catch (error) {
        if (!(error instanceof InboundAuthError)) return next(error);
        res.status(error.status).set('WWW-Authenticate', `Bearer error="${error.code}"`).json({ error: error.code, error_description: error.message });
        return;
      }
    } else {
      principal = {
        kind: 'service',
        authMethod: 'passthrough',
        subject: anonymousSubject(token),
        email: null,
        name: null,
        tenant: defaultTenant,
        groups: [],
        issuer: UNVERIFIED_ISSUER,
        clientId: null,
        scopes: [],
        expiresAt: null,
        apiTokenId: null,
      };
    }
    const extras: RequestExtras = { principal };
    req.auth = { token, clientId: principal.clientId ?? principal.subject, scopes: principal.scopes, expiresAt: principal.expiresAt ?? undefined, extra: extras as unknown as Record<string, unknown> };
    next();
  };
}

/**
 * An unverified caller's subject: `anonymous:` and a digest of the credential it sent. Two such callers are
 * different people as far as Baton can tell, so neither may re-attach to the other's run (and read what was
 * fetched with the other's token), answer the other's requestState, or spend the other's rate limit. Access
 * lists still admit them by the issuer (an explicit `anonymous` entry), not by this subject.
 *
 * @example
 * anonymousSubject('eyJhbGciOi…'); // 'anonymous:3f9a0c…' (16 hex digits)
 */
export function anonymousSubject(token: string): string {
  return token ? `anonymous:${createHash('sha256').update(token).digest('hex').slice(0, 16)}` : 'anonymous:no-credential';
}
