import type { JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import { errors, type ResourceServer, type TokenEndpointGrantContext } from 'oidc-provider';
import { findUser } from '../users.ts';
import type { IdpAccessTokenVerifier } from './access-tokens.ts';
import { resourceScopes } from './resources.ts';

export const tokenExchangeGrantType = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';

/** The request parameters of RFC 8693 §2.1 (oidc-provider drops any parameter a grant does not declare). */
const parameters = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'];

/** RFC 8693 §4.1: who is acting; an earlier actor nests inside, so a chain of exchanges stays visible. */
interface ActorClaim {
  sub: string;
  act?: unknown;
}

export interface TokenExchange {
  /** Registers the grant on the provider; every client whose metadata lists the grant type may then ask. */
  register(provider: Provider): void;
  /** The `act` claim for a token this exchange issued (for `extraTokenClaims`), undefined for any other. */
  actorClaimOf: (token: object) => ActorClaim | undefined;
}

/**
 * RFC 8693 token exchange at the identity provider: a confidential client (Baton) presents a user's
 * access token from this provider and gets one for another resource (an app's API), for the same user,
 * naming itself as the actor. The user's consent is not asked again: the provider trusts the clients an
 * administrator set up for it (the pre-registered Baton client), as a company's identity provider trusts
 * its own gateway. A client that registers itself (RFC 7591) may list the grant type but is still
 * refused: self-service registration must not confer the power to act as any user.
 *
 * Limits, on purpose: only access tokens are exchanged and issued, one resource per request, no actor
 * token (the authenticated client is the actor), and the subject token's own audience is not checked
 * (any resource the user signed in for will do).
 */
export function createTokenExchange(options: {
  /** The confidential clients allowed to exchange (their metadata must also list the grant type). */
  trustedClientIds: readonly string[];
  verifySubjectToken: IdpAccessTokenVerifier;
  /** What the provider issues for a resource, throwing InvalidTarget for one it does not serve. */
  resourceServerInfo(ctx: unknown, resource: string): ResourceServer;
}): TokenExchange {
  // Per instance, keyed by the token object, so the claim needs no room in oidc-provider's own token model.
  const actors = new WeakMap<object, ActorClaim>();

  const exchange = async (ctx: TokenEndpointGrantContext) => {
    const { client, provider } = ctx.oidc;
    const params = ctx.oidc.params as Record<string, unknown>;
    if (client.clientAuthMethod === 'none') {
      throw new errors.UnauthorizedClient('Token exchange is for confidential clients only; this client has no secret to authenticate with.');
    }
    if (!options.trustedClientIds.includes(client.clientId)) {
      throw new errors.UnauthorizedClient('This client is not set up for token exchange; only clients the identity provider trusts to act for users may use it.');
    }
    const subjectToken = requiredString(params, 'subject_token');
    if (requiredString(params, 'subject_token_type') !== accessTokenType) {
      throw new errors.InvalidRequest(`subject_token_type must be ${accessTokenType}: only access tokens from this identity provider can be exchanged.`);
    }
    if (params.requested_token_type !== undefined && params.requested_token_type !== accessTokenType) {
      throw new errors.InvalidRequest(`requested_token_type must be ${accessTokenType}, the only kind of token this exchange issues.`);
    }
    if (params.actor_token !== undefined) {
      throw new errors.InvalidRequest('actor_token is not supported: the authenticated client is the actor.');
    }
    const target = targetOf(params);
    const info = options.resourceServerInfo(ctx, target);

    const check = await options.verifySubjectToken(subjectToken);
    if (check.status === 'expired') throw invalidGrant('The subject_token has expired; get a new one and exchange that.');
    if (check.status === 'invalid') throw invalidGrant(`The subject_token is not an access token from this identity provider: ${check.reason}.`);
    const user = typeof check.claims.sub === 'string' ? findUser(check.claims.sub) : undefined;
    if (!user) throw invalidGrant('The subject_token names no user this identity provider knows.');

    const token = new provider.AccessToken({
      accountId: user.username,
      client,
      gty: tokenExchangeGrantType,
      scope: grantedScope(params.scope, check.claims),
      // No grant record: the delegation is decided here, per request, from the subject token, and JWT
      // access tokens are never looked up by grant.
    } as ConstructorParameters<Provider['AccessToken']>[0]);
    token.resourceServer = new provider.ResourceServer(target, info);
    actors.set(token, { sub: client.clientId, ...(check.claims.act === undefined ? {} : { act: check.claims.act }) });
    ctx.oidc.entity('AccessToken', token);
    const accessToken = await token.save();

    // RFC 8693 §2.2.1. oidc-provider's token route already sets Cache-Control: no-store.
    ctx.body = {
      access_token: accessToken,
      issued_token_type: accessTokenType,
      token_type: token.tokenType,
      expires_in: token.expiration,
      ...(token.scope ? { scope: token.scope } : {}),
    };
  };

  return {
    register: (provider) => provider.registerGrantType(tokenExchangeGrantType, exchange, parameters, ['resource', 'audience']),
    actorClaimOf: (token) => actors.get(token),
  };
}

function requiredString(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value === '') throw new errors.InvalidRequest(`missing required parameter '${name}'`);
  return value;
}

/** RFC 8693's `resource` (a URL) and `audience` (a name) both mean the API here, whose name is its URL. */
function targetOf(params: Record<string, unknown>): string {
  const named = [params.resource, params.audience].flatMap((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]));
  const targets = [...new Set(named)];
  if (targets.length === 0) throw new errors.InvalidTarget('resource (or audience) is required: the URL of the API the new token is for.');
  if (targets.length > 1) throw new errors.InvalidTarget('Exactly one target is supported: give one resource (or the same URL as audience).');
  const [target] = targets;
  if (typeof target !== 'string' || target === '') throw new errors.InvalidTarget('resource must be a URL.');
  return target;
}

/**
 * The scopes of the new token: what was asked for, which may only narrow the subject token's (an
 * exchange never widens access), or else all of the subject token's; either way only scopes a resource
 * can carry.
 */
function grantedScope(requested: unknown, subject: JWTPayload): string | undefined {
  const held = new Set(typeof subject.scope === 'string' ? subject.scope.split(' ').filter(Boolean) : []);
  const asked = typeof requested === 'string' ? requested.split(' ').filter(Boolean) : [...held];
  const beyond = asked.filter((scope) => !held.has(scope));
  if (beyond.length > 0) {
    throw new errors.InvalidScope(`The subject_token does not carry ${beyond.join(', ')}; an exchange can only narrow the scope.`, beyond.join(' '));
  }
  const granted = asked.filter((scope) => (resourceScopes as readonly string[]).includes(scope));
  return granted.length > 0 ? granted.join(' ') : undefined;
}

/** oidc-provider's InvalidGrant always says "grant request is invalid"; the sandbox says why. */
function invalidGrant(description: string): errors.InvalidGrant {
  return Object.assign(new errors.InvalidGrant(), { error_description: description });
}
