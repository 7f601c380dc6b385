import { crmOpenApiDocument } from './crm-openapi.ts';
import express, { type RequestHandler, type Response, type Router } from 'express';
import type { SandboxContext } from './context.ts';
import { createCrmAuthenticator, type CrmAuthentication } from './crm-auth.ts';
import type { CrmCredentials } from './crm-credentials.ts';
import type { CredentialKind } from './credentials.ts';
import type { IdpAccessTokenVerifier } from './idp/access-tokens.ts';
import { createOAuthServer, type OAuthServer } from './oauth-server.ts';
import { observedEndpoint } from './pipeline.ts';
import { noteCredential } from './request-log.ts';

/** Where the CRM is mounted; its resource URL (the `aud` of identity-provider tokens for it) is the sandbox URL plus this. */
export const crmPath = '/crm';

interface Customer {
  id: string;
  name: string;
  /** The demo user who manages the account. */
  owner: string;
  plan: 'starter' | 'pro' | 'enterprise';
}

/** The demo customers; every credential may read all of them. */
const customers: readonly Customer[] = [
  { id: 'cus_1001', name: 'Acme Corp', owner: 'alice', plan: 'enterprise' },
  { id: 'cus_1002', name: 'Globex', owner: 'bob', plan: 'pro' },
  { id: 'cus_1003', name: 'Initech', owner: 'alice', plan: 'starter' },
];

export interface CrmNoteSnapshot {
  id: string;
  customerId: string;
  text: string;
  /** Who the credential that wrote it belongs to (a user name, `client:<id>`, `org:acme`, ...). */
  author: string;
  /** How the writer authenticated. */
  kind: CredentialKind;
}

export interface CrmSandbox {
  router: Router;
  oauth: OAuthServer;
  notes(): CrmNoteSnapshot[];
}

/** The caller of an authenticated CRM request. */
interface CrmCaller {
  kind: CredentialKind;
  subject: string;
}

/**
 * A customer-records API shaped like a typical SaaS REST API, which accepts every kind of credential such
 * APIs take (see crm-auth.ts) and logs which one each request carried, so tests can check exactly what a
 * caller sent. Its OAuth 2.1 server (user sign-in and client credentials) lives under /crm/oauth, the API
 * under /crm/api/v1.
 */
export function createCrm(ctx: SandboxContext, deps: { credentials: CrmCredentials; verifyIdpToken: IdpAccessTokenVerifier }): CrmSandbox {
  const oauth = createOAuthServer(ctx, {
    app: 'crm',
    displayName: 'CRM',
    clients: deps.credentials.clients,
    clientCredentials: true,
    scopeDelimiter: ' ',
    paths: {
      prefix: crmPath,
      signIn: `${crmPath}/login`,
      authorize: `${crmPath}/oauth/authorize`,
      token: `${crmPath}/oauth/token`,
      revoke: `${crmPath}/oauth/revoke`,
    },
    endpointBase: crmPath,
    tokenPrefixes: { access: 'crm_at_', refresh: 'crm_rt_' },
    revokeResponse: {},
  });
  const authenticate = createCrmAuthenticator({
    credentials: deps.credentials,
    oauth,
    verifyIdpToken: deps.verifyIdpToken,
    resource: () => `${ctx.publicUrl()}${crmPath}`,
  });
  const notes: CrmNoteSnapshot[] = [];

  const note = (res: Response, auth: CrmAuthentication) => {
    noteCredential(res, {
      scheme: auth.scheme,
      presented: auth.presented,
      user: auth.ok ? auth.subject : null,
      valid: auth.ok,
      kind: auth.kind,
      ...(auth.ok ? {} : { refusal: auth.error }),
    });
  };

  const requireCredential: RequestHandler = async (req, res, next) => {
    const auth = await authenticate(req);
    note(res, auth);
    if (!auth.ok) {
      res.status(401).set('WWW-Authenticate', auth.challenge).json({ error: auth.error, message: auth.message });
      return;
    }
    res.locals.crmCaller = { kind: auth.kind, subject: auth.subject } satisfies CrmCaller;
    next();
  };

  /** Public endpoints serve anyone, but still log what the caller sent: a test may check that it sent nothing. */
  const observeCredential: RequestHandler = async (req, res, next) => {
    note(res, await authenticate(req));
    next();
  };

  const callerOf = (res: Response) => res.locals.crmCaller as CrmCaller;
  const notFound = (res: Response, message: string) => res.status(404).json({ error: 'not_found', message });

  const api = express.Router();
  api.get('/v1/public/status', observeCredential, (_req, res) => {
    res.json({ status: 'ok' });
  });

  api.use(requireCredential, ctx.idempotency.middleware('crm'));

  api.get('/v1/me', (_req, res) => {
    res.json(callerOf(res));
  });

  api.get('/v1/customers', (_req, res) => {
    res.json({ data: customers });
  });

  api.get('/v1/customers/:id', (req, res) => {
    const customer = customers.find((candidate) => candidate.id === req.params.id);
    if (!customer) return notFound(res, `No customer with id ${req.params.id}.`);
    res.json(customer);
  });

  api.post('/v1/notes', (req, res) => {
    const body: Record<string, unknown> = typeof req.body === 'object' && req.body !== null ? req.body : {};
    const { customerId, text } = body;
    if (typeof customerId !== 'string' || typeof text !== 'string' || text.trim() === '') {
      res.status(400).json({ error: 'invalid_request', message: 'customerId (a string) and text (a non-empty string) are required.' });
      return;
    }
    if (!customers.some((customer) => customer.id === customerId)) return notFound(res, `No customer with id ${customerId}.`);
    const caller = callerOf(res);
    const created: CrmNoteSnapshot = { id: `note_${notes.length + 1}`, customerId, text, author: caller.subject, kind: caller.kind };
    notes.push(created);
    res.status(201).json({ id: created.id, customerId, text, author: created.author });
  });

  api.use((_req, res) => {
    notFound(res, 'No such endpoint.');
  });

  const router = express.Router();
  router.use(oauth.router);
  // The CRM's API described by an OpenAPI document only, for apps declared without a connector.
  router.get(`${crmPath}/openapi.json`, (_req, res) => {
    res.json(crmOpenApiDocument(`${ctx.publicUrl()}${crmPath}`));
  });
  router.use(`${crmPath}/api`, ...observedEndpoint(ctx, 'crm', crmPath), api);

  return { router, oauth, notes: () => notes.map((entry) => ({ ...entry })) };
}
