import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { foreignPrincipal, principalFromClaims, type ClaimNames, type ForeignClaimMaps } from './access-token-principal.ts';
import { describeVerificationFailure, KeySetUnavailable, type FailureContext } from './access-token-failures.ts';
import { InboundAuthError } from './inbound-auth-error.ts';
import type { Principal } from './principal.ts';

export { InboundAuthError, type InboundAuthErrorCode } from './inbound-auth-error.ts';
export { requireScopes } from './require-scopes.ts';

export interface AccessTokenVerifierOptions {
  /** The authorization server's issuer identifier; `iss` must equal it exactly. Optional only for passthrough servers. */
  issuer?: string;
  /** Baton's canonical resource URI (e.g. http://127.0.0.1:3000/mcp); `aud` must name it. Optional only for passthrough servers. */
  audience?: string;
  /** Remote JWKS (cached, refetched on an unknown `kid`) or keys given inline. */
  jwks: { url: string } | { keys: JWK[] };
  /** Allow-list; default RS256, ES256, EdDSA, PS256. `none` and HS* are refused. */
  algorithms?: string[];
  /** Default 30. */
  clockToleranceSeconds?: number;
  /** Tenant for tokens without a `tenant` claim; default 'default'. */
  defaultTenant?: string;
  /** Default 5000 (jose's). */
  jwksTimeoutMs?: number;
  /** How long fetched keys are used before they are fetched again; default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
  /** Minimum time between refetches triggered by unknown `kid`s; default 30 s. */
  jwksCooldownMs?: number;
  /** Which claims carry tenant and groups; default `tenant` and `groups`. */
  claimNames?: ClaimNames;
  /**
   * The issuer whose `sub` is a Baton user id as it stands (the main identity provider). Every other
   * issuer's subjects become `<issuer>#<sub>`, so another provider can never assert an existing user's
   * id and reach their connections or access entries; its tenant and groups are namespaced the same way unless
   * `claimMaps` maps them, and its e-mail is not kept (see foreignPrincipal). Unset: claims are taken as they are.
   */
  homeIssuer?: string;
  /** For another issuer than the home one: its tenant and group names that are Baton's (the operator's tables). */
  claimMaps?: ForeignClaimMaps;
}

export interface AccessTokenVerifier {
  /** Resolves to the caller, or rejects with an InboundAuthError. */
  verify(token: string): Promise<Principal>;
  /** For readiness checks: rejects (auth_unavailable) when the keys cannot be loaded or there are none. */
  checkKeys(): Promise<void>;
}

export const DEFAULT_ALGORITHMS: readonly string[] = ['RS256', 'ES256', 'EdDSA', 'PS256'];

/**
 * Verifies OAuth 2.1 access tokens the way the MCP authorization spec asks of a resource server: signed
 * by the configured issuer's published keys, meant for this server (audience), within their lifetime.
 * Anything else is rejected; if the keys cannot be fetched, every token is rejected (fail closed).
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const algorithms = checkedAlgorithms(options.algorithms ?? DEFAULT_ALGORITHMS);
  const defaultTenant = options.defaultTenant ?? 'default';
  const keySet = 'url' in options.jwks ? remoteKeySet(options.jwks.url, options) : localKeySet(options.jwks.keys);
  const verifyOptions: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: options.audience === undefined ? undefined : audienceForms(options.audience),
    algorithms: [...algorithms],
    clockTolerance: options.clockToleranceSeconds ?? 30,
    requiredClaims: ['exp', 'sub', ...(options.issuer ? ['iss'] : []), ...(options.audience ? ['aud'] : [])],
  };
  const context = (token: string): FailureContext => ({
    issuer: options.issuer ?? 'the configured identity provider',
    audience: options.audience ?? 'this server',
    algorithms,
    keySource: keySet.source,
    ...unverifiedHeader(token),
  });

  /** jose hands over every key when several match the header (no `kid`, or a reused one); try each. */
  async function verifySignedToken(token: string): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, keySet.getKey, verifyOptions)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      for await (const key of error) {
        try {
          return (await jwtVerify(token, key, verifyOptions)).payload;
        } catch (inner) {
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  }

  return {
    async verify(token) {
      if (typeof token !== 'string' || token.trim() === '') {
        throw new InboundAuthError('invalid_token', 'No bearer token was sent; send the access token in the Authorization header as "Bearer <token>".');
      }
      try {
        const payload = await verifySignedToken(token);
        if (typeof payload.sub !== 'string' || payload.sub === '') {
          throw new InboundAuthError('invalid_token', `The bearer token's sub claim is empty or not a string; use an access token issued by ${options.issuer ?? 'the configured identity provider'}.`);
        }
        const issuer = options.issuer ?? (typeof payload.iss === 'string' ? payload.iss : 'unnamed-issuer');
        const principal = principalFromClaims({ ...payload, sub: payload.sub, iss: issuer, exp: payload.exp as number }, defaultTenant, options.claimNames);
        const foreign = options.homeIssuer !== undefined && issuer !== options.homeIssuer;
        return foreign ? foreignPrincipal(principal, payload, issuer, options.claimNames, options.claimMaps) : principal;
      } catch (error) {
        throw describeVerificationFailure(error, context(token));
      }
    },
    async checkKeys() {
      try {
        await keySet.load();
      } catch (error) {
        throw describeVerificationFailure(error, context(''));
      }
      if (keySet.keyCount() === 0) {
        throw new InboundAuthError('auth_unavailable', `Cannot check bearer tokens: the identity provider publishes no keys ${keySet.source}. Check the identity provider's configuration.`);
      }
    },
  };
}

interface KeySet {
  getKey: JWTVerifyGetKey;
  /** Makes sure keys are loaded and fresh. */
  load(): Promise<void>;
  keyCount(): number;
  /** For messages: where the keys come from. */
  source: string;
}

function remoteKeySet(url: string, options: AccessTokenVerifierOptions): KeySet {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`The identity provider's JWKS URL ${JSON.stringify(url)} is not a valid URL.`);
  }
  const timeoutMs = options.jwksTimeoutMs ?? 5000;
  const remote = createRemoteJWKSet(parsed, {
    timeoutDuration: timeoutMs,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 10 * 60 * 1000,
    cooldownDuration: options.jwksCooldownMs ?? 30 * 1000,
  });
  /** Separates "could not get the keys" (503, try again) from "the token is wrong" (401). */
  const unavailable = (error: unknown): unknown => {
    if (error instanceof errors.JWKSTimeout) return new KeySetUnavailable(`no answer within ${timeoutMs} ms`, { cause: error });
    // jose reports a non-200 answer or a body that is not JSON as a plain JOSEError.
    if (error instanceof errors.JOSEError && error.constructor === errors.JOSEError) return new KeySetUnavailable(error.message, { cause: error });
    // fetch() rejects with TypeError('fetch failed'); the cause names the network error (ECONNREFUSED, ...).
    // Checked by name: fetch's TypeError may come from another realm (e.g. under a test runner's vm).
    if (typeof error === 'object' && error !== null && (error as Error).name === 'TypeError') {
      const detail = messageOf((error as { cause?: unknown }).cause) ?? messageOf(error) ?? 'fetch failed';
      return new KeySetUnavailable(detail, { cause: error });
    }
    return error;
  };
  return {
    getKey: async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        throw unavailable(error);
      }
    },
    load: async () => {
      try {
        // Cached keys still within their max age serve tokens, so they are as good as a fresh fetch.
        if (!remote.fresh) await remote.reload();
      } catch (error) {
        throw unavailable(error);
      }
    },
    keyCount: () => remote.jwks()?.keys.length ?? 0,
    source: `at ${parsed.href}`,
  };
}

function localKeySet(keys: JWK[]): KeySet {
  if (keys.some((key) => 'd' in key || key.kty === 'oct')) {
    throw new TypeError('The inline JWKS must hold public keys only; remove private and symmetric (oct) keys.');
  }
  let local: ReturnType<typeof createLocalJWKSet>;
  try {
    local = createLocalJWKSet({ keys });
  } catch (error) {
    throw new TypeError(`The inline JWKS is malformed: ${error instanceof Error ? error.message : String(error)}.`);
  }
  return { getKey: local, load: async () => {}, keyCount: () => keys.length, source: 'in the configured key set' };
}

/** Symmetric algorithms would let anyone holding the (public) key mint tokens; `none` has no signature. */
function checkedAlgorithms(algorithms: readonly string[]): readonly string[] {
  if (algorithms.length === 0) throw new TypeError('The access token verifier needs at least one allowed signing algorithm.');
  const refused = algorithms.filter((alg) => alg.toLowerCase() === 'none' || /^HS/i.test(alg));
  if (refused.length > 0) {
    throw new TypeError(`Signing algorithm${refused.length === 1 ? '' : 's'} ${refused.join(', ')} cannot verify access tokens: only asymmetric algorithms are allowed.`);
  }
  return algorithms;
}

/** An `aud` equal to the resource URI with or without one trailing slash is the same resource. */
function audienceForms(audience: string): string[] {
  const other = audience.endsWith('/') ? audience.slice(0, -1) : `${audience}/`;
  return other === '' ? [audience] : [audience, other];
}

/** For error messages only; nothing here is trusted. */
function unverifiedHeader(token: string): { kid: unknown; alg: unknown } {
  try {
    const header = decodeProtectedHeader(token);
    return { kid: header.kid, alg: header.alg };
  } catch {
    return { kid: undefined, alg: undefined };
  }
}

function messageOf(value: unknown): string | undefined {
  const message = typeof value === 'object' && value !== null ? (value as { message?: unknown }).message : undefined;
  return typeof message === 'string' && message !== '' ? message : undefined;
}
