import { disabledMessage, type DisabledUsers } from '../../core/access/disabled-users.ts';
import cookieParser from 'cookie-parser';
import express, { type Response, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { ConnectFlow, ConnectFlowError, type ConnectFailure } from '../consent/connect-flow.ts';
import { CsrfTokens } from './csrf.ts';
import { SignInError } from './oidc-sign-in.ts';
import { page, secretFormPage } from './pages.ts';
import { redirectToSignIn, safeReturnTo, SESSION_COOKIE, setSessionCookie, SIGN_IN_COOKIE, type SignInDependencies } from './sign-in-redirect.ts';

const yourConnections = { href: '/account/connections', text: 'See all your connections' };

const failureStatus: Record<ConnectFailure, number> = {
  unknown_request: 404,
  request_closed: 410,
  wrong_user: 403,
  unknown_state: 400,
  expired_state: 400,
  other_session: 400,
  not_oauth_app: 404,
  rejected_key: 400,
};

const failureTitle: Record<ConnectFailure, string> = {
  unknown_request: 'Unknown consent link',
  request_closed: 'This consent link is closed',
  wrong_user: 'This link belongs to someone else',
  unknown_state: 'This sign-in cannot be finished',
  expired_state: 'This sign-in has expired',
  other_session: 'Finish in the browser you started in',
  not_oauth_app: 'Unknown app',
  rejected_key: 'The key was not accepted',
};

export interface ConsentRouteDependencies extends SignInDependencies {
  flow: ConnectFlow;
  /** Keys the CSRF tokens of Baton's own forms (bound to the browser session and the request). */
  csrfKey: Uint8Array;
  /** A user an admin disabled cannot sign in to Baton's pages. */
  disabledUsers: DisabledUsers;
  log: Logger;
}

/**
 * The end user's half of consent, in the browser. `/connect/{requestId}` signs the user in at the
 * identity provider (once per session), checks they are the user whose run asked, and sends them to
 * the app's consent screen; `/oauth/callback/{app}` stores the connection and resumes the waiting runs.
 */
export function consentRoutes({ flow, sessions, signIn, secureCookies, signInLimit, csrfKey, disabledUsers, log }: ConsentRouteDependencies): Router {
  const csrf = new CsrfTokens(csrfKey);
  const keyForm = (requestId: string, appName: string, binding: string, error?: string) =>
    secretFormPage({
      title: `Enter your ${appName} API key`,
      message: `${appName} uses each person's own API key. Paste yours (from ${appName}'s settings); Baton stores it encrypted, uses it only for your runs, and never shows it again.`,
      action: `/connect/${encodeURIComponent(requestId)}`,
      label: `${appName} API key`,
      csrf: csrf.tokenFor(binding, requestId),
      error,
    });
  const router = express.Router();
  router.use(['/connect', '/auth', '/oauth'], helmet(), cookieParser());

  router.get('/connect/:requestId', async (req, res) => {
    const session = await sessions.find(req.cookies?.[SESSION_COOKIE]);
    try {
      if (!session) {
        await redirectToSignIn({ signIn, sessions, secureCookies, signInLimit }, req, res, `/connect/${encodeURIComponent(req.params.requestId)}`);
        return;
      }
      const user = { tenant: session.tenant, subject: session.subject, sessionBinding: session.binding };
      const request = await flow.openRequest(req.params.requestId, user);
      if (request.personalApiKey) {
        res.type('html').send(keyForm(req.params.requestId, request.appName, session.binding));
        return;
      }
      res.redirect(302, (await flow.authorizeUrlForConsent(req.params.requestId, user)).toString());
    } catch (error) {
      sendFailure(res, error, log);
    }
  });

  router.post('/connect/:requestId', express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    const session = await sessions.find(req.cookies?.[SESSION_COOKIE]);
    const { requestId } = req.params;
    if (!session || !csrf.matches(session.binding, requestId, req.body?.csrf)) {
      res.status(403).type('html').send(page('This form has expired', 'Open the link from your assistant again and enter the key there.'));
      return;
    }
    const user = { tenant: session.tenant, subject: session.subject, sessionBinding: session.binding };
    const secret = typeof req.body?.secret === 'string' ? req.body.secret.trim() : '';
    try {
      if (!secret) throw new ConnectFlowError('rejected_key', 'The key was empty.');
      const result = await flow.savePersonalApiKey(requestId, user, secret);
      const appName = flow.appName(result.app);
      res.type('html').send(page(`${appName} key saved`, `${appName} connected as @${result.externalLogin} — you can return to your assistant.`, [yourConnections]));
    } catch (error) {
      if (error instanceof ConnectFlowError && error.kind === 'rejected_key') {
        res
          .status(400)
          .type('html')
          .send(keyForm(requestId, (await flow.openRequest(requestId, user)).appName, session.binding, error.message));
        return;
      }
      sendFailure(res, error, log);
    }
  });

  router.get('/auth/callback', async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const pending = await sessions.takeSignIn(state, req.cookies?.[SIGN_IN_COOKIE]);
    res.clearCookie(SIGN_IN_COOKIE, { path: '/' });
    if (!pending) {
      res
        .status(400)
        .type('html')
        .send(page('This sign-in cannot be finished', 'The sign-in expired, was already used, or was started in another browser. Open the consent link from your assistant again.'));
      return;
    }
    try {
      const user = await signIn.finish(new URL(req.originalUrl, 'http://gateway.invalid'), { state, ...pending });
      const disabled = await disabledUsers.find(user.tenant, user.subject);
      if (disabled) {
        res
          .status(403)
          .type('html')
          .send(page('This account is disabled', disabledMessage(disabled)));
        return;
      }
      setSessionCookie(res, await sessions.open(user), secureCookies);
      // Only ever back to a consent or account page of this gateway: the return path came from our own table.
      res.redirect(302, safeReturnTo(pending.returnTo));
    } catch (error) {
      sendFailure(res, error, log);
    }
  });

  router.get('/oauth/callback/:app', async (req, res) => {
    const session = await sessions.find(req.cookies?.[SESSION_COOKIE]);
    try {
      const result = await flow.handleCallback(req.params.app, new URL(req.originalUrl, 'http://gateway.invalid'), session?.binding ?? '');
      const appName = flow.appName(result.app);
      if (result.outcome === 'connected') {
        res.type('html').send(page(`${appName} connected`, `${appName} connected as @${result.externalLogin} — you can return to your assistant.`, [yourConnections]));
      } else {
        res.type('html').send(page(`${appName} not connected`, `You declined to connect ${appName}. The run that asked for it has stopped; nothing was changed.`));
      }
    } catch (error) {
      sendFailure(res, error, log);
    }
  });

  return router;
}

function sendFailure(res: Response, error: unknown, log: Logger): void {
  if (error instanceof ConnectFlowError) {
    res.status(failureStatus[error.kind]).type('html').send(page(failureTitle[error.kind], error.message));
  } else if (error instanceof SignInError) {
    res.status(502).type('html').send(page('Sign-in failed', error.message));
  } else {
    log.warn({ err: error }, 'consent flow failed at the provider');
    res
      .status(502)
      .type('html')
      .send(page('The app did not finish connecting', `The app's sign-in did not complete (${(error as Error).message}). Nothing was stored; open the consent link again to retry.`));
  }
}
