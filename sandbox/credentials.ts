/** The authentication schemes the sandbox distinguishes in an `Authorization` header. */
export type CredentialScheme = 'bearer' | 'token' | 'basic' | 'none';

/**
 * What kind of credential a request to the CRM carried, as the CRM recognised it. The other apps accept
 * one kind each, so only the CRM's log entries name one.
 * - `oauth_user` / `oauth_client`: an access token from the CRM's own OAuth server, issued to a user
 *   (authorization code) or to a client itself (client credentials);
 * - `api_key_header` / `api_key_query`: the organisation's or a user's API key in `X-Api-Key` or `?api_key=`;
 * - `bearer_static`: the integration token; `basic`: the service user's name and password;
 * - `idp_jwt`: an identity-provider access token issued for the CRM (`aud` = its resource URL), as token
 *   exchange produces; `idp_jwt_foreign_audience`: an identity-provider token issued for something else,
 *   i.e. a caller's own token passed through;
 * - refusals: `none` (nothing sent), `multiple` (more than one credential), `unsupported_scheme` (an
 *   Authorization scheme the CRM does not take), `bearer_unknown` (a bearer token it never issued).
 */
export type CredentialKind =
  | 'oauth_user'
  | 'oauth_client'
  | 'api_key_header'
  | 'api_key_query'
  | 'bearer_static'
  | 'basic'
  | 'idp_jwt'
  | 'idp_jwt_foreign_audience'
  | 'none'
  | 'multiple'
  | 'unsupported_scheme'
  | 'bearer_unknown';

export interface PresentedCredential {
  scheme: CredentialScheme;
  /** The raw token, or the user name of Basic credentials; null when nothing usable was sent. */
  value: string | null;
  /** The password half of Basic credentials. */
  password: string | null;
}

const nothing: PresentedCredential = { scheme: 'none', value: null, password: null };

/**
 * Reads an `Authorization` header. `token X` is GitHub's historical scheme; any scheme the sandbox does
 * not know counts as no credential at all.
 */
export function readAuthorization(header: string | undefined): PresentedCredential {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header ?? '');
  if (!match) return nothing;
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === 'bearer') return { scheme: 'bearer', value, password: null };
  if (scheme === 'token') return { scheme: 'token', value, password: null };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { scheme: 'basic', value: decoded, password: null };
    return { scheme: 'basic', value: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return nothing;
}
