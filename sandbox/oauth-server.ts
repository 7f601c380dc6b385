import express, { type Request, type Response, type Router } from 'express';
import cookieParser from 'cookie-parser';
import type { SandboxContext } from './context.ts';
import { readAuthorization } from './credentials.ts';
import { GrantStore, type AccessTokenCheck, type Grant, type GrantOutcome } from './grants.ts';
import { consentPage, errorPage, signedInPage, signInPage } from './pages.ts';
import { observedEndpoint, stringParams } from './pipeline.ts';
import { noteCredential, noteGrantType } from './request-log.ts';
import { SessionStore, type AuthorizationRequest } from './sessions.ts';
import { sameSecret } from './tokens.ts';
import { checkPassword, findUser, type DemoUser } from './users.ts';

/** The OAuth client Baton is registered as with an app. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

/** What differs between the apps' authorization servers; the behaviour itself is shared. */
export interface OAuthServerConfig {
  app: 'github' | 'slack' | 'crm' | 'helpdesk';
  /** As shown on the pages: "GitHub", "Slack". */
  displayName: string;
  /** The registered clients (the real services have one per integration; the sandbox usually just Baton). */
  clients: readonly OAuthClient[];
  /**
   * Whether the token endpoint also takes `grant_type=client_credentials` (RFC 6749 §4.4): a registered
   * client gets an access token for itself, owned by `client:<id>`, with no refresh token. GitHub and
   * Slack have no such grant for their user APIs, so it is off unless asked for.
   */
  clientCredentials?: boolean;
  /** How the token response lists granted scopes: GitHub and Slack use commas (the default), RFC 6749 spaces. */
  scopeDelimiter?: ',' | ' ';
  /** Absolute paths, mirroring the real service's under the app's prefix (which also scopes the session cookie). */
  paths: { prefix: string; signIn: string; authorize: string; token: string; revoke: string };
  /** Where the real host of the token and revocation endpoints is mounted, for the request log's paths. */
  endpointBase: string;
  tokenPrefixes: { access: string; refresh: string };
  /** Fields the real service adds to a successful token response. */
  tokenResponseExtras?: (user: DemoUser) => Record<string, unknown>;
  /** Fields the real service adds to a failed token response. */
  errorResponseExtras?: Record<string, unknown>;
  /** The body of a successful revocation. */
  revokeResponse: Record<string, unknown>;
  /**
   * Whether the revocation endpoint also takes the access token itself as its credential
   * (`Authorization: Bearer <token>`, no client authentication), as Slack's auth.revoke does; a token that
   * is not valid is answered with `{ok: false, error}` like Slack's other methods.
   */
  bearerRevocation?: boolean;
}

export interface OAuthServer {
  router: Router;
  checkAccessToken(token: string): AccessTokenCheck;
  revokeUserGrants(user: string): number;
  /** Whether this is a registered client and its secret. */
  isClient(clientId: string, clientSecret: string): boolean;
  /** Revokes the grant of a live access token issued to `clientId` (with its refresh tokens); undefined for an unknown or revoked one. */
  revokeAccessToken(token: string, clientId: string): Grant | undefined;
}

type TokenError = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type';

/**
 * An OAuth 2.1 authorization server for one app: sign-in and consent pages, the authorization-code
 * grant with mandatory PKCE (S256), refresh-token rotation with reuse detection, RFC 7009 revocation and,
 * where the app has it, the client credentials grant.
 */
export function createOAuthServer(ctx: SandboxContext, config: OAuthServerConfig): OAuthServer {
  const { paths } = config;
  const sessionCookie = `${config.app}_session`;
  const sessions = new SessionStore();
  const grants = new GrantStore({
    accessTokenPrefix: config.tokenPrefixes.access,
    refreshTokenPrefix: config.tokenPrefixes.refresh,
    accessTokenTtlSeconds: () => ctx.settings.accessTokenTtlSeconds,
    onIssued: (secret) => ctx.secrets.add(secret),
  });
  const clientIds = config.clients.map((client) => client.clientId);
  const router = express.Router();
  const browserRoutes = [cookieParser(), express.urlencoded({ extended: false })];

  const sessionOf = (req: Request): { id: string | undefined; user: string | undefined } => {
    const id = typeof req.cookies?.[sessionCookie] === 'string' ? (req.cookies[sessionCookie] as string) : undefined;
    return { id, user: sessions.userOf(id) };
  };

  const showError = (res: Response, status: number, title: string, message: string) => {
    res
      .status(status)
      .type('html')
      .send(errorPage({ appName: config.displayName, title, message }));
  };

  // Only paths on this app may be returned to, so the sign-in page is no open redirector.
  const safeReturnTo = (value: string | undefined): string | undefined => (value && value.startsWith(`${paths.prefix}/`) && !value.includes('\\') && !value.startsWith('//') ? value : undefined);

  router.get(paths.signIn, ...browserRoutes, (req, res) => {
    const returnTo = safeReturnTo(stringParams(req.query).return_to) ?? '';
    res.type('html').send(signInPage({ appName: config.displayName, action: paths.signIn, returnTo }));
  });

  router.post(paths.signIn, ...browserRoutes, (req, res) => {
    const form = stringParams(req.body);
    const returnTo = safeReturnTo(form.return_to);
    const user = checkPassword(form.username ?? '', form.password ?? '');
    if (!user) {
      res
        .status(401)
        .type('html')
        .send(
          signInPage({
            appName: config.displayName,
            action: paths.signIn,
            returnTo: returnTo ?? '',
            username: form.username ?? '',
            error: 'Incorrect username or password.',
          }),
        );
      return;
    }
    res.cookie(sessionCookie, sessions.signIn(user.username), { httpOnly: true, path: paths.prefix, sameSite: 'lax' });
    if (returnTo) res.redirect(302, returnTo);
    else res.type('html').send(signedInPage({ appName: config.displayName, user: user.username }));
  });

  router.get(paths.authorize, ...browserRoutes, (req, res) => {
    const parsed = parseAuthorizationRequest(stringParams(req.query), clientIds);
    if (typeof parsed === 'string') return showError(res, 400, 'Invalid authorization request', parsed);
    const session = sessionOf(req);
    if (!session.id || !session.user) {
      res.redirect(302, `${paths.signIn}?return_to=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    res
      .set({ 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' })
      .type('html')
      .send(
        consentPage({
          appName: config.displayName,
          user: session.user,
          clientId: parsed.clientId,
          scopes: parsed.scope,
          redirectUri: parsed.redirectUri,
          action: paths.authorize,
          transaction: sessions.openConsent(session.id, parsed),
        }),
      );
  });

  router.post(paths.authorize, ...browserRoutes, (req, res) => {
    const form = stringParams(req.body);
    const session = sessionOf(req);
    const request = sessions.takeConsent(form.transaction ?? '', session.id);
    if (!request || !session.user) {
      return showError(res, 400, 'Authorization request expired', 'This consent form has expired, was already answered, or belongs to another session.');
    }
    if (form.decision !== 'approve' && form.decision !== 'deny') {
      return showError(res, 400, 'Invalid authorization request', 'The consent form must be answered with approve or deny.');
    }
    const target = new URL(request.redirectUri);
    if (form.decision === 'approve') {
      const code = grants.issueCode({
        clientId: request.clientId,
        redirectUri: request.redirectUri,
        codeChallenge: request.codeChallenge,
        user: session.user,
        scope: request.scope,
      });
      target.searchParams.set('code', code);
    } else {
      target.searchParams.set('error', 'access_denied');
    }
    target.searchParams.set('state', request.state);
    res.redirect(302, target.href);
  });

  /** Client authentication by HTTP Basic or client_secret_post (RFC 6749 §2.3.1). */
  const authenticateClient = (req: Request, params: Record<string, string>): { clientId: string | null; basic: boolean; failure?: string } => {
    const header = readAuthorization(req.get('authorization'));
    const basic = header.scheme === 'basic';
    if (basic && params.client_secret !== undefined) {
      return { clientId: null, basic, failure: 'Use one client authentication method, not both.' };
    }
    const clientId = basic ? formDecode(header.value ?? '') : params.client_id;
    const secret = basic ? formDecode(header.password ?? '') : params.client_secret;
    if (clientId === undefined || secret === undefined) return { clientId: clientId ?? null, basic, failure: 'Client authentication is required.' };
    const registered = config.clients.find((client) => client.clientId === clientId);
    if (!registered || !sameSecret(secret, registered.clientSecret)) {
      return { clientId, basic, failure: 'Client authentication failed.' };
    }
    return { clientId, basic };
  };

  const sendTokenError = (res: Response, status: number, error: TokenError, description: string) => {
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .json({ ...config.errorResponseExtras, error, error_description: description });
  };

  router.post(paths.token, ...observedEndpoint(ctx, config.app, config.endpointBase), (req, res) => {
    const params = stringParams(req.body);
    if (params.grant_type !== undefined) noteGrantType(res, params.grant_type);
    const client = authenticateClient(req, params);
    const scheme = client.basic ? 'basic' : 'none';
    if (client.failure !== undefined) {
      noteCredential(res, { scheme, presented: client.clientId, user: null, valid: false });
      if (client.basic) res.set('WWW-Authenticate', `Basic realm="${config.displayName}"`);
      return sendTokenError(res, 401, 'invalid_client', client.failure);
    }
    const exchange = exchangeGrant(params, client.clientId!);
    const user = exchange.outcome?.ok ? exchange.outcome.tokens.grant.user : null;
    noteCredential(res, { scheme, presented: client.clientId, user, valid: user !== null });
    if (!exchange.outcome) return sendTokenError(res, 400, exchange.error, exchange.description);
    if (!exchange.outcome.ok) return sendTokenError(res, 400, exchange.outcome.error, exchange.outcome.description);
    const { tokens } = exchange.outcome;
    const person = tokens.grant.kind === 'user' ? findUser(tokens.grant.user) : undefined;
    res.set('Cache-Control', 'no-store').json({
      ...(person ? config.tokenResponseExtras?.(person) : undefined),
      access_token: tokens.accessToken,
      token_type: 'bearer',
      expires_in: tokens.expiresIn,
      ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
      scope: tokens.grant.scope.join(config.scopeDelimiter ?? ','),
    });
  });

  const exchangeGrant = (params: Record<string, string>, clientId: string): { outcome: GrantOutcome } | { outcome?: undefined; error: TokenError; description: string } => {
    switch (params.grant_type) {
      case 'authorization_code': {
        const { code, redirect_uri: redirectUri, code_verifier: codeVerifier } = params;
        if (!code || !redirectUri || !codeVerifier) {
          return { error: 'invalid_request', description: 'code, redirect_uri and code_verifier are required.' };
        }
        return { outcome: grants.redeemCode({ code, clientId, redirectUri, codeVerifier }) };
      }
      case 'refresh_token':
        if (!params.refresh_token) return { error: 'invalid_request', description: 'refresh_token is required.' };
        return { outcome: grants.refresh({ refreshToken: params.refresh_token, clientId }) };
      case 'client_credentials':
        if (!config.clientCredentials) break;
        return { outcome: { ok: true, tokens: grants.issueClientToken({ clientId, scope: scopeList(params.scope) }) } };
      case undefined:
        return { error: 'invalid_request', description: 'grant_type is required.' };
    }
    return { error: 'unsupported_grant_type', description: `grant_type ${params.grant_type} is not supported.` };
  };

  router.post(paths.revoke, ...observedEndpoint(ctx, config.app, config.endpointBase), (req, res) => {
    const params = stringParams(req.body);
    const bearer = readAuthorization(req.get('authorization'));
    if (config.bearerRevocation && bearer.scheme === 'bearer' && bearer.value) {
      // Slack's auth.revoke: the token authenticates the request and is the one revoked.
      const check = grants.checkAccessToken(bearer.value);
      const valid = check.status === 'valid';
      noteCredential(res, { scheme: 'bearer', presented: bearer.value, user: valid ? check.grant.user : null, valid });
      if (!valid) {
        res.json({ ok: false, error: check.status === 'revoked' ? 'token_revoked' : check.status === 'expired' ? 'token_expired' : 'invalid_auth' });
        return;
      }
      grants.revokeToken(bearer.value, check.grant.clientId);
      res.json(config.revokeResponse);
      return;
    }
    const client = authenticateClient(req, params);
    const scheme = client.basic ? 'basic' : 'none';
    if (client.failure !== undefined) {
      noteCredential(res, { scheme, presented: client.clientId, user: null, valid: false });
      return sendTokenError(res, 401, 'invalid_client', client.failure);
    }
    if (!params.token) {
      noteCredential(res, { scheme, presented: client.clientId, user: null, valid: true });
      return sendTokenError(res, 400, 'invalid_request', 'token is required.');
    }
    // RFC 7009 §2.2: an unknown or foreign token is answered like a revoked one.
    const grant = grants.revokeToken(params.token, client.clientId!);
    noteCredential(res, { scheme, presented: client.clientId, user: grant?.user ?? null, valid: true });
    res.json(config.revokeResponse);
  });

  return {
    router,
    checkAccessToken: (token) => grants.checkAccessToken(token),
    revokeUserGrants: (user) => grants.revokeUserGrants(user),
    isClient: (clientId, clientSecret) => config.clients.some((client) => client.clientId === clientId && sameSecret(clientSecret, client.clientSecret)),
    revokeAccessToken: (token, clientId) => {
      // An unknown or already revoked token is not found (GitHub answers 404 for it).
      const status = grants.checkAccessToken(token).status;
      return status === 'unknown' || status === 'revoked' ? undefined : grants.revokeToken(token, clientId);
    },
  };
}

/** Validates the authorize endpoint's query; a string is the reason it was refused. */
function parseAuthorizationRequest(query: Record<string, string>, knownClientIds: readonly string[]): AuthorizationRequest | string {
  if (query.client_id === undefined || !knownClientIds.includes(query.client_id)) return 'Unknown or missing client_id.';
  if (!query.redirect_uri || !isLoopbackRedirect(query.redirect_uri)) {
    return 'redirect_uri must be an http://127.0.0.1 or http://localhost address (RFC 8252 loopback redirect).';
  }
  if (query.response_type !== 'code') return 'response_type must be "code".';
  if (!query.code_challenge || !/^[A-Za-z0-9._~-]{43,128}$/.test(query.code_challenge)) {
    return 'A PKCE code_challenge is required.';
  }
  if (query.code_challenge_method !== 'S256') return 'code_challenge_method must be "S256"; plain is not allowed.';
  if (!query.state) return 'state is required.';
  // Slack asks for user-token scopes separately; both end up on the one grant here.
  const scope = scopeList(`${query.scope ?? ''} ${query.user_scope ?? ''}`);
  return { clientId: query.client_id, redirectUri: query.redirect_uri, codeChallenge: query.code_challenge, state: query.state, scope };
}

/** Requested scopes, space- or comma-separated (the real services differ), without repeats. */
function scopeList(value: string | undefined): string[] {
  return [...new Set((value ?? '').split(/[\s,]+/).filter(Boolean))];
}

function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.hash === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** Basic client credentials are form-encoded before base64 (RFC 6749 §2.3.1). */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
