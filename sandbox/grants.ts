import { pkceS256, randomToken, sameSecret } from './tokens.ts';

/**
 * One user's authorization of one client, from the consent click on. Every access and refresh token
 * descends from a grant, so revoking the grant (reuse detection, the revocation endpoint, the user
 * removing the app) invalidates the whole token family at once.
 */
export interface Grant {
  id: string;
  /**
   * `user`: a person authorized the client (authorization code). `client`: the client acting for itself
   * (client credentials), which no user can revoke and which gets no refresh token.
   */
  kind: 'user' | 'client';
  /** The demo user's name, or `client:<client id>` for a client's own grant. */
  user: string;
  clientId: string;
  scope: string[];
  revoked: boolean;
}

interface AccessTokenRecord {
  grant: Grant;
  expiresAt: number;
}

interface RefreshTokenRecord {
  grant: Grant;
  /** Set once exchanged: rotation makes a refresh token single-use. */
  used: boolean;
}

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  user: string;
  scope: string[];
  expiresAt: number;
  /** The grant this code was exchanged for; a second exchange revokes it (OAuth 2.1 §4.1.3). */
  redeemedAs: Grant | null;
}

export type AccessTokenCheck = { status: 'valid'; grant: Grant } | { status: 'expired' | 'revoked'; grant: Grant } | { status: 'unknown' };

export interface IssuedTokens {
  grant: Grant;
  accessToken: string;
  /** Absent for client credentials (RFC 6749 §4.4.3): the client just asks again. */
  refreshToken?: string;
  expiresIn: number;
}

export type GrantOutcome = { ok: true; tokens: IssuedTokens } | { ok: false; error: 'invalid_grant'; description: string; grant: Grant | null };

export interface GrantStoreOptions {
  accessTokenPrefix: string;
  refreshTokenPrefix: string;
  /** Read at every issue so the TTL can change while the sandbox runs. */
  accessTokenTtlSeconds: () => number;
  /** Told about every code and token issued, for the leak-scanning list. */
  onIssued: (secret: string) => void;
}

const codeLifetimeMs = 60_000;

/** The authorization server's memory: codes, grants and the tokens issued from them. */
export class GrantStore {
  #options: GrantStoreOptions;
  #codes = new Map<string, CodeRecord>();
  #accessTokens = new Map<string, AccessTokenRecord>();
  #refreshTokens = new Map<string, RefreshTokenRecord>();
  #grants: Grant[] = [];

  constructor(options: GrantStoreOptions) {
    this.#options = options;
  }

  issueCode(request: { clientId: string; redirectUri: string; codeChallenge: string; user: string; scope: string[] }): string {
    const code = randomToken('', 24);
    this.#codes.set(code, { ...request, expiresAt: Date.now() + codeLifetimeMs, redeemedAs: null });
    this.#options.onIssued(code);
    return code;
  }

  redeemCode(request: { code: string; clientId: string; redirectUri: string; codeVerifier: string }): GrantOutcome {
    const record = this.#codes.get(request.code);
    if (!record || record.clientId !== request.clientId) return refuse('The authorization code is invalid.');
    if (record.redeemedAs) {
      // A replayed code means it leaked: tokens already issued from it can no longer be trusted.
      record.redeemedAs.revoked = true;
      return refuse('The authorization code was already used.', record.redeemedAs);
    }
    if (Date.now() > record.expiresAt) return refuse('The authorization code has expired.');
    if (record.redirectUri !== request.redirectUri) return refuse('The redirect_uri does not match the authorization request.');
    if (!sameSecret(pkceS256(request.codeVerifier), record.codeChallenge)) return refuse('The code_verifier does not match the code_challenge.');
    const grant: Grant = { id: randomToken('grant_', 9), kind: 'user', user: record.user, clientId: record.clientId, scope: record.scope, revoked: false };
    this.#grants.push(grant);
    record.redeemedAs = grant;
    return { ok: true, tokens: this.#issueTokens(grant) };
  }

  refresh(request: { refreshToken: string; clientId: string }): GrantOutcome {
    const record = this.#refreshTokens.get(request.refreshToken);
    if (!record || record.grant.clientId !== request.clientId) return refuse('The refresh token is invalid.');
    if (record.grant.revoked) return refuse('The refresh token has been revoked.', record.grant);
    if (record.used) {
      // Reuse of a rotated refresh token: either the client or an attacker holds a stale copy, so the
      // whole family goes (OAuth 2.0 Security BCP §4.14.2).
      record.grant.revoked = true;
      return refuse('The refresh token was already used; the grant has been revoked.', record.grant);
    }
    record.used = true;
    return { ok: true, tokens: this.#issueTokens(record.grant) };
  }

  /** The client credentials grant: a new grant per request, owned by the client, access token only. */
  issueClientToken(request: { clientId: string; scope: string[] }): IssuedTokens {
    const grant: Grant = {
      id: randomToken('grant_', 9),
      kind: 'client',
      user: `client:${request.clientId}`,
      clientId: request.clientId,
      scope: request.scope,
      revoked: false,
    };
    this.#grants.push(grant);
    return this.#issueTokens(grant);
  }

  checkAccessToken(token: string): AccessTokenCheck {
    const record = this.#accessTokens.get(token);
    if (!record) return { status: 'unknown' };
    if (record.grant.revoked) return { status: 'revoked', grant: record.grant };
    if (Date.now() >= record.expiresAt) return { status: 'expired', grant: record.grant };
    return { status: 'valid', grant: record.grant };
  }

  /** The grant an access or refresh token belongs to, whatever its state. */
  grantOf(token: string): Grant | undefined {
    return this.#accessTokens.get(token)?.grant ?? this.#refreshTokens.get(token)?.grant;
  }

  /** RFC 7009 revocation: the token's whole grant ends, if the token belongs to this client. */
  revokeToken(token: string, clientId: string): Grant | undefined {
    const grant = this.grantOf(token);
    if (!grant || grant.clientId !== clientId) return undefined;
    grant.revoked = true;
    return grant;
  }

  /** What the user does by removing the app in the provider's settings: every grant they gave ends. */
  revokeUserGrants(user: string): number {
    let revoked = 0;
    for (const grant of this.#grants) {
      if (grant.user === user && !grant.revoked) {
        grant.revoked = true;
        revoked += 1;
      }
    }
    return revoked;
  }

  #issueTokens(grant: Grant): IssuedTokens {
    const expiresIn = this.#options.accessTokenTtlSeconds();
    const accessToken = randomToken(this.#options.accessTokenPrefix);
    this.#accessTokens.set(accessToken, { grant, expiresAt: Date.now() + expiresIn * 1000 });
    this.#options.onIssued(accessToken);
    if (grant.kind === 'client') return { grant, accessToken, expiresIn };
    const refreshToken = randomToken(this.#options.refreshTokenPrefix);
    this.#refreshTokens.set(refreshToken, { grant, used: false });
    this.#options.onIssued(refreshToken);
    return { grant, accessToken, refreshToken, expiresIn };
  }
}

function refuse(description: string, grant: Grant | null = null): GrantOutcome {
  return { ok: false, error: 'invalid_grant', description, grant };
}
