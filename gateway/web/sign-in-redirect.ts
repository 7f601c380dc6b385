import type { CookieOptions, Response } from 'express';
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

/** Sends the browser to the identity provider; after sign-in `/auth/callback` brings it back to `returnTo`. */
export async function redirectToSignIn(deps: { signIn: OidcSignIn; sessions: BrowserSessions; secureCookies: boolean }, res: Response, returnTo: string): Promise<void> {
  const started = await deps.signIn.start();
  const signInCookie = newCookieValue();
  await deps.sessions.startSignIn(started.state, signInCookie, { codeVerifier: started.codeVerifier, nonce: started.nonce, returnTo: safeReturnTo(returnTo) });
  res.cookie(SIGN_IN_COOKIE, signInCookie, cookieOptions(deps.secureCookies, SIGN_IN_LIFETIME_MS));
  res.redirect(302, started.url.toString());
}
