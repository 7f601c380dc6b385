import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { newCookieValue, SESSION_LIFETIME_MS, type BrowserSessions } from '../../core/sessions/browser-sessions.ts';
import type { OidcSignIn } from './oidc-sign-in.ts';

/** The browser session of Baton's pages (its value is never stored, only its hash). */
export const SESSION_COOKIE = 'baton_session';
/** Binds a sign-in sent to the identity provider to the browser that started it. */
export const SIGN_IN_COOKIE = 'baton_sign_in';

const SIGN_IN_LIFETIME_MS = 10 * 60 * 1000;

const cookieOptions = (secure: boolean, maxAge?: number): CookieOptions => ({ httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge });

/** Starts the browser session of a user who just signed in. */
export function setSessionCookie(res: Response, value: string, secure: boolean): void {
  res.cookie(SESSION_COOKIE, value, cookieOptions(secure, SESSION_LIFETIME_MS));
}

/** Ends it in this browser (the caller closes it in the database). */
export function clearSessionCookie(res: Response, secure: boolean): void {
  res.clearCookie(SESSION_COOKIE, cookieOptions(secure));
}

/**
 * Where a finished sign-in may send the browser: only Baton's own consent and account pages. The value
 * comes from our own table, but it is checked again so no path can turn the callback into an open redirect.
 */
export function safeReturnTo(path: string): string {
  return /^\/(connect\/[^/?#]|account(?:[/?]|$))/.test(path) && !path.includes('\\') ? path : '/account';
}

export interface SignInDependencies {
  signIn: OidcSignIn;
  sessions: BrowserSessions;
  secureCookies: boolean;
  /** Bounds the sign-ins one address may start (each is a row until it finishes or expires): see signInRateLimit. */
  signInLimit: RequestHandler;
}

/**
 * Anyone may open a consent link or an account page, and without a session each visit starts a sign-in
 * (a row in `browser_sign_ins` for ten minutes): at most `perMinute` per client address, the rest answered
 * `429` with a page saying when to try again.
 */
export function signInRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => void res.status(429).type('text/plain').send(`Too many sign-ins started from your address: at most ${perMinute} a minute. Wait a minute, then open the link again.`),
  });
}

/** Sends the browser to the identity provider; after sign-in `/auth/callback` brings it back to `returnTo`. */
export async function redirectToSignIn(deps: SignInDependencies, req: Request, res: Response, returnTo: string): Promise<void> {
  if (!(await passes(deps.signInLimit, req, res))) return;
  const started = await deps.signIn.start();
  const signInCookie = newCookieValue();
  await deps.sessions.startSignIn(started.state, signInCookie, { codeVerifier: started.codeVerifier, nonce: started.nonce, returnTo: safeReturnTo(returnTo) });
  res.cookie(SIGN_IN_COOKIE, signInCookie, cookieOptions(deps.secureCookies, SIGN_IN_LIFETIME_MS));
  res.redirect(302, started.url.toString());
}

/** Runs a middleware in line: resolves true when it handed the request on, false when it answered the request itself. */
function passes(middleware: RequestHandler, req: Request, res: Response): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const handedOn = (error?: unknown) => (error ? reject(error instanceof Error ? error : new Error('the rate limit failed')) : resolve(true));
    Promise.resolve(middleware(req, res, handedOn)).then(() => {
      if (res.headersSent) resolve(false);
    }, reject);
  });
}
