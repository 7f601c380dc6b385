import type { Request } from 'express';
import type { JWTPayload } from 'jose';
import type { CrmCredentials } from './crm-credentials.ts';
import { readAuthorization, type CredentialKind, type CredentialScheme } from './credentials.ts';
import type { IdpAccessTokenVerifier } from './idp/access-tokens.ts';
import type { OAuthServer } from './oauth-server.ts';
import { sameSecret } from './tokens.ts';

/** The organisation the CRM's tenant-wide credentials act for (the demo users' tenant). */
const organisation = 'org:acme';
const realm = 'realm="CRM"';

/** What the CRM made of a credential, wherever it travelled. */
type Recognised = {
  kind: CredentialKind;
  /** The raw token or key, or the Basic user name (the request log's `presented`). */
  presented: string | null;
} & (
  | { ok: true; /** Who the credential belongs to, as /api/v1/me reports it. */ subject: string }
  | { ok: false; /** The 401 body's `error`. */ error: string; message: string; /** The WWW-Authenticate value. */ challenge: string }
);

/** How the CRM saw a request's credential: what the request log records, and whether to serve it. */
export type CrmAuthentication = Recognised & { scheme: CredentialScheme };

/**
 * Works out which one of the CRM's credential kinds a request carries and whom it belongs to. One
 * credential per request: a request with several (say an API key and an Authorization header) is
 * refused rather than guessed at, so a caller that leaks an extra credential is noticed.
 */
export function createCrmAuthenticator(deps: {
  credentials: CrmCredentials;
  oauth: OAuthServer;
  verifyIdpToken: IdpAccessTokenVerifier;
  /** `${sandboxUrl}/crm`: the `aud` of identity-provider tokens meant for the CRM. */
  resource(): string;
}): (req: Request) => Promise<CrmAuthentication> {
  const { credentials } = deps;

  const apiKey = (key: string, kind: 'api_key_header' | 'api_key_query'): Recognised => {
    if (sameSecret(key, credentials.organisationApiKey)) return { ok: true, kind, presented: key, subject: organisation };
    const owner = Object.entries(credentials.userApiKeys).find(([, userKey]) => sameSecret(key, userKey))?.[0];
    if (owner) return { ok: true, kind, presented: key, subject: owner };
    const where = kind === 'api_key_header' ? 'X-Api-Key header' : 'api_key query parameter';
    return refuse(kind, key, 'invalid_api_key', `The API key in the ${where} is not a key of this CRM.`, `Bearer ${realm}`);
  };

  const basic = (username: string | null, password: string | null): Recognised => {
    const account = credentials.serviceAccount;
    if (username === account.username && password !== null && sameSecret(password, account.password)) {
      return { ok: true, kind: 'basic', presented: username, subject: `service:${username}` };
    }
    return refuse('basic', username, 'invalid_basic_credentials', 'The service user name or password is wrong.', `Basic ${realm}`);
  };

  const bearer = async (token: string): Promise<Recognised> => {
    if (sameSecret(token, credentials.integrationToken)) return { ok: true, kind: 'bearer_static', presented: token, subject: 'integration' };

    const check = deps.oauth.checkAccessToken(token);
    if (check.status !== 'unknown') {
      const kind = check.grant.kind === 'client' ? 'oauth_client' : 'oauth_user';
      if (check.status === 'valid') return { ok: true, kind, presented: token, subject: check.grant.user };
      return check.status === 'expired'
        ? invalidToken(kind, token, 'token_expired', 'The access token has expired; refresh it, or request a new one.')
        : invalidToken(kind, token, 'token_revoked', 'The access token has been revoked.');
    }

    if (/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
      const verified = await deps.verifyIdpToken(token);
      if (verified.status === 'invalid') {
        return invalidToken('idp_jwt', token, 'invalid_token', `The bearer token is not a valid identity-provider token: ${verified.reason}.`);
      }
      const audiences = audiencesOf(verified.claims);
      const kind = audiences.includes(deps.resource()) ? 'idp_jwt' : 'idp_jwt_foreign_audience';
      if (verified.status === 'expired') return invalidToken(kind, token, 'token_expired', 'The identity-provider token has expired.');
      if (kind === 'idp_jwt_foreign_audience' && credentials.foreignAudienceTokens === 'reject') {
        return invalidToken(kind, token, 'invalid_audience', `The token was issued for ${audiences.join(', ')}, not for this CRM (${deps.resource()}); exchange it for a CRM token first.`);
      }
      return { ok: true, kind, presented: token, subject: String(verified.claims.sub) };
    }

    return invalidToken('bearer_unknown', token, 'invalid_token', 'The bearer token is not one this CRM issued or accepts.');
  };

  return async (req) => {
    const authorization = req.get('authorization');
    const headerKey = req.get('x-api-key');
    const queryKeys = new URLSearchParams(req.originalUrl.split('?')[1] ?? '').getAll('api_key');
    const header = readAuthorization(authorization);
    const places = [...(authorization === undefined ? [] : ['Authorization header']), ...(headerKey === undefined ? [] : ['X-Api-Key header']), ...queryKeys.map(() => 'api_key query parameter')];
    const seen = (recognised: Recognised): CrmAuthentication => ({ ...recognised, scheme: header.scheme });

    if (places.length === 0) {
      return seen(
        refuse(
          'none',
          null,
          'missing_credentials',
          'This endpoint needs a credential: an OAuth access token, an API key (X-Api-Key header or api_key query parameter), the integration token, an identity-provider token, or the service user by Basic auth.',
          `Bearer ${realm}`,
        ),
      );
    }
    if (places.length > 1) {
      return seen(refuse('multiple', null, 'multiple_credentials', `Send exactly one credential; this request carried ${places.length} (${places.join(', ')}).`, `Bearer ${realm}`));
    }
    if (headerKey !== undefined) return seen(apiKey(headerKey, 'api_key_header'));
    if (queryKeys.length === 1) return seen(apiKey(queryKeys[0]!, 'api_key_query'));
    if (header.scheme === 'basic') return seen(basic(header.value, header.password));
    if (header.scheme === 'bearer' && header.value) return seen(await bearer(header.value));
    const scheme = /^\s*(\S*)/.exec(authorization ?? '')![1] || '(none)';
    return seen(refuse('unsupported_scheme', header.value, 'unsupported_scheme', `Authorization scheme "${scheme}" is not supported; use Bearer or Basic.`, `Bearer ${realm}`));
  };
}

function refuse(kind: CredentialKind, presented: string | null, error: string, message: string, challenge: string): Recognised {
  return { ok: false, kind, presented, error, message, challenge };
}

/** RFC 6750 §3: a bearer token that was presented but is no good. */
function invalidToken(kind: CredentialKind, token: string, error: string, message: string): Recognised {
  const description = message.replace(/["\\]/g, "'");
  return refuse(kind, token, error, message, `Bearer ${realm}, error="invalid_token", error_description="${description}"`);
}

function audiencesOf(claims: JWTPayload): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud : [];
}
