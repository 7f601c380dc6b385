import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { enabledAlgorithms } from './signing-keys.ts';

/** An identity-provider access token as checked in-process: by the token exchange and by the CRM. */
export type IdpAccessTokenCheck =
  | { status: 'valid'; claims: JWTPayload }
  /** Genuine, but past `exp`: the claims are still given so a caller can say whose token it was. */
  | { status: 'expired'; claims: JWTPayload }
  | { status: 'invalid'; reason: string };

export type IdpAccessTokenVerifier = (token: string) => Promise<IdpAccessTokenCheck>;

/**
 * Verifies a JWT access token (RFC 9068) this identity provider issued: signature against its own public
 * keys, `iss`, `typ: at+jwt` (so an ID token, signed with the same key, does not pass), and `sub`, `exp`
 * and `aud` (not `client_id`, which tests that mint tokens with the provider's key tend to leave out).
 * No clock skew allowance, so tests see expiry exactly. The audience is the
 * caller's business: the exchange accepts any, the CRM tells its own from others.
 */
export function createIdpAccessTokenVerifier(options: { issuer: string; jwks: JSONWebKeySet }): IdpAccessTokenVerifier {
  const keys = createLocalJWKSet(options.jwks);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        typ: 'at+jwt',
        algorithms: [...enabledAlgorithms],
        requiredClaims: ['sub', 'exp', 'aud'],
      });
      return { status: 'valid', claims: payload };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { status: 'expired', claims: error.payload };
      return { status: 'invalid', reason: reasonOf(error) };
    }
  };
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWSSignatureVerificationFailed) return "its signature does not verify against the identity provider's keys";
  if (error instanceof errors.JWKSNoMatchingKey) return 'it is signed with a key the identity provider does not publish';
  if (error instanceof errors.JWTClaimValidationFailed) return `its "${error.claim}" claim is not acceptable (${error.message})`;
  if (error instanceof errors.JOSEError) return `it is not a valid JWT (${error.message})`;
  return 'it is not a valid JWT';
}
