import { createHash, randomBytes } from 'node:crypto';
import type { SqlDatabase } from '../db.ts';

export interface BrowserSession {
  /** Hash of the cookie value: what OAuth `state` is bound to, never the cookie itself. */
  binding: string;
  tenant: string;
  subject: string;
  email: string | null;
  name: string | null;
}

export interface PendingSignIn {
  codeVerifier: string;
  nonce: string;
  returnTo: string;
}

export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;
const SIGN_IN_LIFETIME_MS = 10 * 60 * 1000;

export const hashCookie = (value: string) => createHash('sha256').update(value).digest('base64url');
export const newCookieValue = () => randomBytes(32).toString('base64url');

/**
 * Browser sessions of the consent pages, in the database so any gateway behind a load balancer can
 * serve the next request. Only hashes of cookie values are stored: a database leak opens no session.
 */
export class BrowserSessions {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /** Opens a session for a user who just signed in; returns the cookie value to set. */
  async open(user: Omit<BrowserSession, 'binding'>): Promise<string> {
    const cookie = newCookieValue();
    await this.#db.run('DELETE FROM browser_sessions WHERE expires_at < ?', Date.now());
    await this.#db.run(
      'INSERT INTO browser_sessions (binding, tenant, subject, email, name, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      hashCookie(cookie),
      user.tenant,
      user.subject,
      user.email,
      user.name,
      Date.now() + SESSION_LIFETIME_MS,
    );
    return cookie;
  }

  async find(cookie: string | undefined): Promise<BrowserSession | undefined> {
    if (!cookie) return undefined;
    const row = await this.#db.get<Omit<BrowserSession, 'binding'> & { binding: string; expires_at: number }>('SELECT * FROM browser_sessions WHERE binding = ?', hashCookie(cookie));
    if (!row || row.expires_at < Date.now()) return undefined;
    return { binding: row.binding, tenant: row.tenant, subject: row.subject, email: row.email, name: row.name };
  }

  /** Signs a user out everywhere (they were disabled): every session of theirs ends at its next request. */
  async closeAllFor(user: { tenant: string; subject: string }): Promise<number> {
    return (await this.#db.run('DELETE FROM browser_sessions WHERE tenant = ? AND subject = ?', user.tenant, user.subject)).changes;
  }

  async close(cookie: string | undefined): Promise<void> {
    if (cookie) await this.#db.run('DELETE FROM browser_sessions WHERE binding = ?', hashCookie(cookie));
  }

  /** Remembers a sign-in sent to the identity provider, bound to the browser's sign-in cookie. */
  async startSignIn(state: string, signInCookie: string, pending: PendingSignIn): Promise<void> {
    await this.#db.run('DELETE FROM browser_sign_ins WHERE expires_at < ?', Date.now());
    await this.#db.run(
      'INSERT INTO browser_sign_ins (state, cookie_binding, code_verifier, nonce, return_to, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      state,
      hashCookie(signInCookie),
      pending.codeVerifier,
      pending.nonce,
      pending.returnTo,
      Date.now() + SIGN_IN_LIFETIME_MS,
    );
  }

  /**
   * Single use; undefined when unknown, expired, or started in another browser. Taken in one statement
   * (DELETE … RETURNING), so of two callbacks presenting the same state at once, on any gateways, one gets it.
   * A state presented from the wrong browser is used up all the same.
   */
  async takeSignIn(state: string, signInCookie: string | undefined): Promise<PendingSignIn | undefined> {
    const row = await this.#db.get<{ cookie_binding: string; code_verifier: string; nonce: string; return_to: string; expires_at: number }>(
      'DELETE FROM browser_sign_ins WHERE state = ? RETURNING cookie_binding, code_verifier, nonce, return_to, expires_at',
      state,
    );
    if (!row) return undefined;
    if (row.expires_at < Date.now() || !signInCookie || row.cookie_binding !== hashCookie(signInCookie)) return undefined;
    return { codeVerifier: row.code_verifier, nonce: row.nonce, returnTo: row.return_to };
  }
}
