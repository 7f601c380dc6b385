import { randomToken } from './tokens.ts';

/** What the client asked for at the authorize endpoint, already validated. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string;
  scope: string[];
}

interface PendingConsent {
  sessionId: string;
  request: AuthorizationRequest;
  expiresAt: number;
}

const consentLifetimeMs = 10 * 60_000;

/**
 * The browser side of one app's authorization server: who is signed in (by session cookie) and which
 * consent pages are open. A consent transaction is bound to the session that saw the page and can be
 * answered once, which is what makes the consent form safe against cross-site request forgery.
 */
export class SessionStore {
  #sessions = new Map<string, string>();
  #consents = new Map<string, PendingConsent>();

  signIn(user: string): string {
    const sessionId = randomToken('', 24);
    this.#sessions.set(sessionId, user);
    return sessionId;
  }

  userOf(sessionId: string | undefined): string | undefined {
    return sessionId === undefined ? undefined : this.#sessions.get(sessionId);
  }

  openConsent(sessionId: string, request: AuthorizationRequest): string {
    const transaction = randomToken('', 24);
    this.#consents.set(transaction, { sessionId, request, expiresAt: Date.now() + consentLifetimeMs });
    return transaction;
  }

  /** Consumes the transaction: whatever the outcome, it cannot be answered again. */
  takeConsent(transaction: string, sessionId: string | undefined): AuthorizationRequest | undefined {
    const pending = this.#consents.get(transaction);
    this.#consents.delete(transaction);
    if (!pending || pending.sessionId !== sessionId || Date.now() > pending.expiresAt) return undefined;
    return pending.request;
  }
}
