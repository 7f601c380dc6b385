import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import { enabledAlgorithms } from '../idp/signing-keys.ts';
import type { NotesGrants } from './notes-grants.ts';

/**
 * Why the notes MCP server refused a bearer token (the request log's `refusal`):
 * - `missing_token`: no bearer token at all;
 * - `foreign_token`: a JWT from another issuer, such as the sandbox identity provider;
 * - `invalid_token`: not a JWT this authorization server signed;
 * - `wrong_audience`: one of its tokens, for another resource;
 * - `token_expired`; `grant_revoked`: the grant it came from was revoked;
 * - `challenge_mode`: a valid token, refused because a test switched challenge mode on for its user.
 */
export type NotesTokenRefusal = 'missing_token' | 'foreign_token' | 'invalid_token' | 'wrong_audience' | 'token_expired' | 'grant_revoked' | 'challenge_mode';

export type NotesTokenCheck =
  /** `user` is `client:<id>` for the listing client's own token (client credentials: it acts for nobody). */
  | { status: 'valid'; user: string; clientId: string; scopes: string[]; expiresAt: number }
  /** `user` names whose token it was when the token is genuine (expired, revoked), else null. */
  | { status: 'refused'; refusal: NotesTokenRefusal; user: string | null; description: string };

/**
 * Checks a notes access token the way a resource server checks RFC 9068 JWTs, offline: signature against
 * the authorization server's published keys, `iss`, `typ: at+jwt`, `aud` exactly the MCP endpoint (a
 * token for anything else is refused, whoever issued it), `exp` without clock skew (so tests see expiry
 * exactly), and then whether its grant still stands.
 */
export function createNotesTokenVerifier(options: { issuer: string; jwks: JSONWebKeySet; resource: string; grants: NotesGrants; listingClientId: string }) {
  const keys = createLocalJWKSet(options.jwks);
  return async (token: string): Promise<NotesTokenCheck> => {
    const refuse = (refusal: NotesTokenRefusal, description: string, user: string | null = null): NotesTokenCheck => ({ status: 'refused', refusal, user, description });
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      return refuse('invalid_token', 'The access token is not a JWT from the notes authorization server.');
    }
    if (issuer !== options.issuer) {
      return refuse('foreign_token', `The access token was issued by ${String(issuer)}, not by ${options.issuer}; get one from the notes authorization server.`);
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.resource,
        typ: 'at+jwt',
        algorithms: [...enabledAlgorithms],
        requiredClaims: ['sub', 'exp', 'aud', 'jti', 'client_id'],
      });
      const user = payload.sub!;
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      // A client-credentials token has no user and no grant: the listing client acting as itself.
      if (payload.client_id === options.listingClientId && user === options.listingClientId) {
        return { status: 'valid', user: `client:${user}`, clientId: user, scopes, expiresAt: payload.exp! };
      }
      const grant = options.grants.tokenGrantState(payload.jti!);
      if (grant !== 'live') return refuse('grant_revoked', 'The grant this access token was issued from has been revoked.', user);
      return {
        status: 'valid',
        user,
        clientId: String(payload.client_id),
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        expiresAt: payload.exp!,
      };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return refuse('token_expired', 'The access token has expired.', typeof error.payload.sub === 'string' ? error.payload.sub : null);
      if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') {
        return refuse('wrong_audience', `The access token is not for ${options.resource}.`, typeof error.payload.sub === 'string' ? error.payload.sub : null);
      }
      return refuse('invalid_token', 'The access token is not valid for the notes MCP server.');
    }
  };
}

export type NotesTokenVerifier = ReturnType<typeof createNotesTokenVerifier>;
