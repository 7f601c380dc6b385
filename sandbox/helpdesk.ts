import express, { type RequestHandler, type Response, type Router } from 'express';
import { randomBytes } from 'node:crypto';
import type { SandboxContext } from './context.ts';
import { readAuthorization, type CredentialKind } from './credentials.ts';
import { helpdeskOpenApiDocument } from './helpdesk-openapi.ts';
import { createOAuthServer, type OAuthClient, type OAuthServer } from './oauth-server.ts';
import { observedEndpoint } from './pipeline.ts';
import { noteCredential } from './request-log.ts';
import { randomToken, sameSecret } from './tokens.ts';

/** Where the help desk is mounted under the sandbox URL. */
export const helpdeskPath = '/helpdesk';

/** `startSandbox({ helpdesk })`: what is not given is generated. */
export interface HelpdeskOptions {
  /** OAuth clients registered with the help desk (authorization code, for users). */
  clients?: OAuthClient[];
  /** The organisation's API key (X-Helpdesk-Key), which acts for the organisation, not a person. */
  organisationApiKey?: string;
}

/** What a test or `npm start` needs to use the help desk: `RunningSandbox.helpdesk`. */
export interface RunningHelpdesk {
  /** `${sandboxUrl}/helpdesk/openapi.json`: the document Baton declares the app from. */
  openApiUrl: string;
  clients: OAuthClient[];
  organisationApiKey: string;
}

export interface HelpdeskTicket {
  id: string;
  title: string;
  description?: string;
  priority: 'low' | 'normal' | 'high' | 'urgent';
  status: 'open' | 'closed';
  /** Who the credential that opened it belongs to: a user name, or `org:acme` for the organisation's key. */
  reporter: string;
  /** How the reporter authenticated. */
  reporterKind: CredentialKind;
  resolution?: string;
  closedBy?: string;
}

export interface HelpdeskSandbox {
  router: Router;
  oauth: OAuthServer;
  running: RunningHelpdesk;
  /** Every credential the help desk issued at start, for the sandbox's issued-secrets list. */
  secrets: string[];
  tickets(): HelpdeskTicket[];
}

const priorities = ['low', 'normal', 'high', 'urgent'] as const;

/**
 * A support-ticket API that Baton knows only through its OpenAPI document (helpdesk-openapi.ts): its own
 * OAuth 2.1 server under /helpdesk/oauth (authorization code with PKCE, RFC 7009 revocation), an
 * organisation API key, and the API under /helpdesk/api/v1. Writes need the `tickets:write` scope when the
 * caller came through OAuth, and every request's credential is logged like the other apps'.
 */
export function createHelpdesk(ctx: SandboxContext, options: HelpdeskOptions = {}): HelpdeskSandbox {
  const clients = options.clients?.length ? options.clients.map((client) => ({ ...client })) : [{ clientId: `baton-helpdesk-${randomBytes(6).toString('hex')}`, clientSecret: randomToken('hd_cs_') }];
  const organisationApiKey = options.organisationApiKey ?? randomToken('hd_org_');
  const oauth = createOAuthServer(ctx, {
    app: 'helpdesk',
    displayName: 'Help desk',
    clients,
    scopeDelimiter: ' ',
    paths: {
      prefix: helpdeskPath,
      signIn: `${helpdeskPath}/login`,
      authorize: `${helpdeskPath}/oauth/authorize`,
      token: `${helpdeskPath}/oauth/token`,
      revoke: `${helpdeskPath}/oauth/revoke`,
    },
    endpointBase: helpdeskPath,
    tokenPrefixes: { access: 'hd_at_', refresh: 'hd_rt_' },
    revokeResponse: {},
  });
  const tickets: HelpdeskTicket[] = [];

  /** Who is calling, with what, and (for OAuth) which scopes the grant holds; or why they are refused. */
  const requireCredential: RequestHandler = (req, res, next) => {
    const key = req.get('x-helpdesk-key');
    const authorization = readAuthorization(req.get('authorization'));
    const refuse = (kind: CredentialKind, presented: string | null, error: string, message: string) => {
      noteCredential(res, { scheme: authorization.scheme, presented, user: null, valid: false, kind, refusal: error });
      res.status(401).set('WWW-Authenticate', 'Bearer realm="Help desk"').json({ error, message });
    };
    if (key !== undefined && req.get('authorization') !== undefined) return refuse('multiple', null, 'multiple_credentials', 'Send either X-Helpdesk-Key or an Authorization header, not both.');
    if (key !== undefined) {
      if (!sameSecret(key, organisationApiKey)) return refuse('api_key_header', key, 'invalid_api_key', 'The X-Helpdesk-Key is not a key of this help desk.');
      noteCredential(res, { scheme: 'none', presented: key, user: 'org:acme', valid: true, kind: 'api_key_header' });
      res.locals.caller = { subject: 'org:acme', kind: 'api_key_header', scopes: ['tickets:read', 'tickets:write'] };
      return next();
    }
    if (authorization.scheme !== 'bearer' || !authorization.value)
      return refuse('none', null, 'missing_credentials', 'Send an OAuth access token (Authorization: Bearer) or the organisation key (X-Helpdesk-Key).');
    const check = oauth.checkAccessToken(authorization.value);
    if (check.status !== 'valid') {
      const why = check.status === 'unknown' ? 'is not one this help desk issued' : `has been ${check.status}`;
      return refuse('oauth_user', authorization.value, 'invalid_token', `The access token ${why}.`);
    }
    noteCredential(res, { scheme: 'bearer', presented: authorization.value, user: check.grant.user, valid: true, kind: 'oauth_user' });
    res.locals.caller = { subject: check.grant.user, kind: 'oauth_user', scopes: check.grant.scope };
    next();
  };
  const callerOf = (res: Response) => res.locals.caller as { subject: string; kind: CredentialKind; scopes: string[] };
  const canWrite = (res: Response): boolean => {
    if (callerOf(res).scopes.includes('tickets:write')) return true;
    res.status(403).json({ error: 'insufficient_scope', message: 'Opening and closing tickets needs the tickets:write scope; reconnect the help desk granting it.' });
    return false;
  };
  const invalid = (res: Response, message: string) => res.status(400).json({ error: 'invalid_request', message });
  const ticketOr404 = (res: Response, id: string | undefined) => {
    const found = tickets.find((ticket) => ticket.id === id);
    if (!found) res.status(404).json({ error: 'not_found', message: `No ticket ${id}.` });
    return found;
  };
  const shown = ({ reporterKind: _kind, ...ticket }: HelpdeskTicket) => ticket;

  const api = express.Router();
  api.use(requireCredential, ctx.idempotency.middleware('helpdesk'));
  api.get('/v1/me', (_req, res) => {
    const { subject, kind } = callerOf(res);
    res.json({ subject, kind });
  });
  api.get('/v1/tickets', (req, res) => {
    const { status, limit } = req.query;
    if (status !== undefined && status !== 'open' && status !== 'closed') return invalid(res, 'status must be open or closed.');
    const most = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(most) || most < 1 || most > 100) return invalid(res, 'limit must be a whole number from 1 to 100.');
    const chosen = tickets.filter((ticket) => status === undefined || ticket.status === status);
    res.json({ data: chosen.slice(-most).reverse().map(shown) });
  });
  api.post('/v1/tickets', (req, res) => {
    if (!canWrite(res)) return;
    const body: Record<string, unknown> = typeof req.body === 'object' && req.body !== null ? req.body : {};
    const { title, description, priority = 'normal' } = body;
    if (typeof title !== 'string' || title.trim() === '' || title.length > 200) return invalid(res, 'title must be a non-empty string of at most 200 characters.');
    if (description !== undefined && typeof description !== 'string') return invalid(res, 'description must be a string.');
    if (!priorities.includes(priority as never)) return invalid(res, `priority must be one of ${priorities.join(', ')}.`);
    const caller = callerOf(res);
    const ticket: HelpdeskTicket = {
      id: `HD-${tickets.length + 1}`,
      title,
      ...(description === undefined ? {} : { description }),
      priority: priority as HelpdeskTicket['priority'],
      status: 'open',
      reporter: caller.subject,
      reporterKind: caller.kind,
    };
    tickets.push(ticket);
    res.status(201).json(shown(ticket));
  });
  api.get('/v1/tickets/:ticketId', (req, res) => {
    const ticket = ticketOr404(res, req.params.ticketId);
    if (ticket) res.json(shown(ticket));
  });
  api.post('/v1/tickets/:ticketId/close', (req, res) => {
    if (!canWrite(res)) return;
    const ticket = ticketOr404(res, req.params.ticketId);
    if (!ticket) return;
    const resolution: unknown = (req.body as Record<string, unknown> | undefined)?.resolution;
    if (typeof resolution !== 'string' || resolution.trim() === '') return invalid(res, 'resolution must be a non-empty string.');
    Object.assign(ticket, { status: 'closed', resolution, closedBy: callerOf(res).subject });
    res.json(shown(ticket));
  });
  api.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'No such endpoint.' });
  });

  const router = express.Router();
  router.use(oauth.router);
  router.get(`${helpdeskPath}/openapi.json`, (_req, res) => {
    res.json(helpdeskOpenApiDocument(`${ctx.publicUrl()}${helpdeskPath}`));
  });
  router.use(`${helpdeskPath}/api`, ...observedEndpoint(ctx, 'helpdesk', helpdeskPath), api);

  return {
    router,
    oauth,
    running: { openApiUrl: `${ctx.publicUrl()}${helpdeskPath}/openapi.json`, clients: clients.map((client) => ({ ...client })), organisationApiKey },
    secrets: [...clients.map((client) => client.clientSecret), organisationApiKey],
    tickets: () => tickets.map((ticket) => ({ ...ticket })),
  };
}
