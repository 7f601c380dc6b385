import type { Client } from '@temporalio/client';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { AuditFilter } from '../../core/audit/audit-log.ts';
import type { BatonSettings } from '../../core/config/settings.ts';
import type { BatonStores } from '../../core/stores.ts';
import type { AccessPolicy } from '../access/access-policy.ts';
import { browserActor } from '../audit/actor.ts';
import type { ConnectionRevocation } from '../connections/connection-revocation.ts';
import { ConnectFlowError, type ConnectFlow } from '../consent/connect-flow.ts';
import type { RunRegistry } from '../../core/runs/run-registry.ts';
import { accountMessagePage, auditPage, connectionsPage, runPage, runsPage, type AuditFilterForm, type Notice, type PageFrame } from './account-pages.ts';
import { appNamer, connectionViews, ownRunView, runViews } from './account-views.ts';
import type { BrowserSession } from '../../core/sessions/browser-sessions.ts';
import { CsrfTokens } from './csrf.ts';
import { clearSessionCookie, redirectToSignIn, SESSION_COOKIE, type SignInDependencies } from './sign-in-redirect.ts';

export interface AccountRouteDependencies extends SignInDependencies {
  settings: BatonSettings;
  stores: BatonStores;
  client: Client;
  flow: ConnectFlow;
  runs: RunRegistry;
  revocation: ConnectionRevocation;
  /** Owners and admins see everyone's audit records (roles come from the configuration file). */
  policy: Pick<AccessPolicy, 'roleOf'>;
  /** Keys the CSRF tokens of the forms (bound to the browser session and to what each form does). */
  csrfKey: Uint8Array;
  log: Logger;
}

const RUNS_SHOWN = 25;
const AUDIT_SHOWN = 200;
const FILTER_MAX = 200;

/** Notices named in the query after a form's redirect; the text is ours, only the app's name is filled in. */
const notices: Record<string, (appName: string) => Notice> = {
  revoked: (app) => ({ kind: 'status', text: `${app} disconnected: Baton deleted its copy and the app revoked the token.` }),
  revoked_here: (app) => ({ kind: 'alert', text: `${app} disconnected in Baton. ${app} did not confirm revoking the token; see the audit trail for its answer.` }),
  not_connected: (app) => ({ kind: 'status', text: `${app} was not connected; nothing changed.` }),
  key_saved: (app) => ({ kind: 'status', text: `Your ${app} key is saved.` }),
};

const text = (value: unknown) => (typeof value === 'string' ? value.trim().slice(0, FILTER_MAX) : '');

/**
 * The end user's own pages, served by the gateway and signed in through the identity provider:
 * `/account/connections` (connect, reconnect, revoke, enter an API key), `/account/runs` (recent runs,
 * what they wait for, their steps), `/account/audit` (their trail; everyone's for owners and admins).
 * Every POST carries a CSRF token bound to the session and the action, and is refused with 403 without one.
 */
export function accountRoutes(deps: AccountRouteDependencies): Router {
  const { settings, stores, client, flow, sessions, runs, revocation, policy, secureCookies, log } = deps;
  const appNameOf = appNamer(settings);
  const csrf = new CsrfTokens(deps.csrfKey);
  const purpose = (action: string, app = '') => `account:${action}:${app}`;
  const frameOf = (session: BrowserSession): PageFrame => ({ user: session, signOutCsrf: csrf.tokenFor(session.binding, purpose('sign-out')) });
  const appTokens = (session: BrowserSession) => (app: string) => ({
    connect: csrf.tokenFor(session.binding, purpose('connect', app)),
    revoke: csrf.tokenFor(session.binding, purpose('revoke', app)),
    key: csrf.tokenFor(session.binding, purpose('key', app)),
  });
  const mayAuditEveryone = (session: BrowserSession) => ['owner', 'admin'].includes(policy.roleOf(session) ?? '');
  const sessionOf = (req: Request) => sessions.find(req.cookies?.[SESSION_COOKIE]);
  const html = (res: Response, status: number, body: string) => void res.status(status).type('html').send(body);

  // Only the apps' consent screens may receive a form's redirect (Connect): everything else stays on Baton.
  const authorizeOrigins = [...new Set([...settings.apps.values()].flatMap((app) => (app.endpoints.authorizeUrl ? [new URL(app.endpoints.authorizeUrl).origin] : [])))];
  const router = express.Router();
  router.use(
    '/account',
    helmet({
      contentSecurityPolicy: { directives: { formAction: ["'self'", ...authorizeOrigins], upgradeInsecureRequests: secureCookies ? [] : null } },
      referrerPolicy: { policy: 'same-origin' },
    }),
    cookieParser(),
    (_req: Request, res: Response, next: NextFunction) => {
      res.set('Cache-Control', 'no-store');
      next();
    },
  );

  /** GET pages: the signed-in session, or off to the identity provider and back to the same page. */
  const page =
    (handler: (req: Request, res: Response, session: BrowserSession) => Promise<void> | void) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        const session = await sessionOf(req);
        if (!session) return await redirectToSignIn(deps, req, res, req.originalUrl);
        await handler(req, res, session);
      } catch (error) {
        log.warn({ err: error, path: req.path }, 'account page failed');
        html(
          res,
          502,
          accountMessagePage(null, 'This page could not be shown', `Something Baton depends on did not answer (${(error as Error).message}). Try again shortly.`, {
            href: '/account',
            text: 'Back to your account',
          }),
        );
      }
    };

  /** POST forms: a session and a CSRF token made for exactly this action, or 403 and nothing happens. */
  const form =
    (action: string, handler: (req: Request, res: Response, session: BrowserSession, app: string) => Promise<void> | void) =>
    async (req: Request, res: Response): Promise<void> => {
      const session = await sessionOf(req);
      const app = typeof req.params.app === 'string' ? req.params.app : '';
      if (!session || !csrf.matches(session.binding, purpose(action, app), req.body?.csrf)) {
        log.info({ action, app, signedIn: session !== undefined }, 'account form refused: no valid CSRF token');
        html(
          res,
          403,
          accountMessagePage(
            session ? frameOf(session) : null,
            'This form has expired',
            'The form was not sent from this page in this browser session, so nothing was changed. Open the page again and retry.',
            { href: '/account/connections', text: 'Back to your connections' },
          ),
        );
        return;
      }
      try {
        await handler(req, res, session, app);
      } catch (error) {
        if (error instanceof ConnectFlowError) {
          html(
            res,
            error.kind === 'not_oauth_app' ? 404 : 400,
            accountMessagePage(frameOf(session), 'That did not work', error.message, { href: '/account/connections', text: 'Back to your connections' }),
          );
          return;
        }
        log.warn({ err: error, action, app }, 'account form failed');
        html(
          res,
          502,
          accountMessagePage(frameOf(session), 'That did not work', `The app did not answer as expected (${(error as Error).message}). Nothing was stored; try again.`, {
            href: '/account/connections',
            text: 'Back to your connections',
          }),
        );
      }
    };
  const urlencoded = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

  router.get('/account', (_req, res) => res.redirect(302, '/account/connections'));

  router.get(
    '/account/connections',
    page(async (req, res, session) => {
      const app = text(req.query.app);
      const notice = typeof req.query.notice === 'string' && Object.hasOwn(notices, req.query.notice) && settings.apps.has(app) ? notices[req.query.notice]!(appNameOf(app)) : undefined;
      html(res, 200, connectionsPage(frameOf(session), await connectionViews({ settings, stores, flow }, session), appTokens(session), notice));
    }),
  );

  router.post(
    '/account/connections/:app/connect',
    urlencoded,
    form('connect', async (_req, res, session, app) => {
      if (flow.personalApiKeyOf(app)) throw new ConnectFlowError('not_oauth_app', `${appNameOf(app)} takes your own API key: enter it on the connections page.`);
      const url = await flow.authorizeUrl({ tenant: session.tenant, subject: session.subject, app }, session.binding);
      res.redirect(303, url.toString());
    }),
  );

  router.post(
    '/account/connections/:app/revoke',
    urlencoded,
    form('revoke', async (_req, res, session, app) => {
      if (!settings.apps.has(app) && !(await stores.vault.getConnectionInfo(session.tenant, session.subject, app))) {
        html(res, 404, accountMessagePage(frameOf(session), 'Unknown app', `There is no app "${app}".`, { href: '/account/connections', text: 'Back to your connections' }));
        return;
      }
      const result = await revocation.revoke(session, app, browserActor(session));
      const notice = !result.revoked ? 'not_connected' : result.revokedAtProvider ? 'revoked' : 'revoked_here';
      res.redirect(303, `/account/connections?notice=${notice}&app=${encodeURIComponent(app)}`);
    }),
  );

  router.post(
    '/account/connections/:app/key',
    urlencoded,
    form('key', async (req, res, session, app) => {
      const secret = typeof req.body?.secret === 'string' ? req.body.secret.trim() : '';
      try {
        if (!secret) throw new ConnectFlowError('rejected_key', 'The key was empty.');
        await flow.savePersonalApiKeyFor(session, app, secret);
        res.redirect(303, `/account/connections?notice=key_saved&app=${encodeURIComponent(app)}`);
      } catch (error) {
        if (!(error instanceof ConnectFlowError) || error.kind !== 'rejected_key') throw error;
        // Back to the page with the message next to the field; the key itself is never echoed.
        html(res, 400, connectionsPage(frameOf(session), await connectionViews({ settings, stores, flow }, session), appTokens(session), undefined, { app, message: error.message }));
      }
    }),
  );

  router.post(
    '/account/sign-out',
    urlencoded,
    form('sign-out', async (req, res) => {
      await sessions.close(req.cookies?.[SESSION_COOKIE]);
      clearSessionCookie(res, secureCookies);
      html(res, 200, accountMessagePage(null, 'Signed out', 'You are signed out of Baton in this browser.', { href: '/account', text: 'Sign in again' }));
    }),
  );

  router.get(
    '/account/runs',
    page(async (_req, res, session) => {
      html(res, 200, runsPage(frameOf(session), await runViews({ stores, client, runs, appName: appNameOf }, session, RUNS_SHOWN), appNameOf));
    }),
  );

  router.get(
    '/account/runs/:runId',
    page(async (req, res, session) => {
      const run = await ownRunView({ stores, client, runs, appName: appNameOf }, session, String(req.params.runId));
      // Someone else's run and no run at all get the same answer: nothing about it is revealed.
      if (!run) return html(res, 404, accountMessagePage(frameOf(session), 'No such run', 'You have no run with this id.', { href: '/account/runs', text: 'Your runs' }));
      html(res, 200, runPage(frameOf(session), run, appNameOf));
    }),
  );

  router.get(
    '/account/audit',
    page(async (req, res, session) => {
      const everyone = mayAuditEveryone(session);
      const filters: AuditFilterForm = {
        user: everyone ? text(req.query.user) : '',
        app: text(req.query.app),
        tool: text(req.query.tool),
        outcome: text(req.query.outcome),
        since: text(req.query.since),
      };
      const query: AuditFilter = { tenant: session.tenant, limit: AUDIT_SHOWN };
      // Only owners and admins choose whose records; everyone else only ever gets their own.
      if (!everyone) query.subject = session.subject;
      else if (filters.user) query.subject = filters.user;
      if (filters.app) query.app = filters.app;
      if (filters.tool) query.tool = filters.tool;
      if (filters.outcome) query.outcome = filters.outcome;
      let notice: Notice | undefined;
      if (filters.since) {
        const since = /^\d{4}-\d{2}-\d{2}$/.test(filters.since) ? Date.parse(`${filters.since}T00:00:00Z`) : Number.NaN;
        if (Number.isFinite(since)) query.since = since;
        else notice = { kind: 'alert', text: `“Since” must be a date (YYYY-MM-DD); it was ignored.` };
      }
      html(res, 200, auditPage(frameOf(session), { everyone, filters, records: await stores.audit.query(query), limit: AUDIT_SHOWN, names: appNameOf }, notice));
    }),
  );

  // A body too large or malformed for a form: a clear page, nothing changed, no stack trace.
  router.use('/account', (error: Error & { status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) log.warn({ err: error }, 'account request failed');
    html(
      res,
      status,
      accountMessagePage(
        null,
        'This request could not be handled',
        status === 500 ? 'Something went wrong on Baton’s side; nothing was changed. Try again.' : 'The form was not sent as Baton expects, so nothing was changed. Open the page again and retry.',
        { href: '/account', text: 'Back to your account' },
      ),
    );
  });

  return router;
}
