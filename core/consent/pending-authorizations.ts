import type { SqlDatabase } from '../db.ts';

export interface PendingAuthorization {
  state: string;
  tenant: string;
  subject: string;
  app: string;
  /** The consent request this authorization answers, when it came from a paused run's link. */
  consentId: string | null;
  /** Hash of the browser session that started it: the callback must come back in the same browser. */
  sessionBinding: string;
  codeVerifier: string;
  redirectUri: string;
}

export type TakeResult = { kind: 'ok'; pending: PendingAuthorization } | { kind: 'unknown' } | { kind: 'expired' } | { kind: 'other_session' } | { kind: 'other_app' };

/** A `state` is good for ten minutes: long enough to sign in at the app, short enough to be useless later. */
const LIFETIME_MS = 10 * 60 * 1000;

interface Row {
  state: string;
  tenant: string;
  subject: string;
  app: string;
  consent_id: string | null;
  session_binding: string;
  code_verifier: string;
  redirect_uri: string;
  expires_at: number;
}

/**
 * Authorizations sent to an app and not yet answered, by OAuth `state`. Single use: taking one deletes
 * it whatever the outcome, so a replayed or misdirected callback can never be completed later.
 */
export class PendingAuthorizations {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  async add(pending: PendingAuthorization): Promise<void> {
    await this.#db.run('DELETE FROM consent_authorizations WHERE expires_at < ?', Date.now());
    await this.#db.run(
      'INSERT INTO consent_authorizations (state, tenant, subject, app, consent_id, session_binding, code_verifier, redirect_uri, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      pending.state,
      pending.tenant,
      pending.subject,
      pending.app,
      pending.consentId,
      pending.sessionBinding,
      pending.codeVerifier,
      pending.redirectUri,
      Date.now() + LIFETIME_MS,
    );
  }

  /**
   * Takes (and so spends) the authorization for `state`, checking it belongs to this app and browser session.
   * One `DELETE … RETURNING`: of concurrent callbacks with the same `state`, in any process, only one gets the row.
   */
  async take(state: string, expected: { app: string; sessionBinding: string }): Promise<TakeResult> {
    const row = await this.#db.get<Row>('DELETE FROM consent_authorizations WHERE state = ? RETURNING *', state);
    if (!row) return { kind: 'unknown' };
    if (Number(row.expires_at) < Date.now()) return { kind: 'expired' };
    if (row.app !== expected.app) return { kind: 'other_app' };
    if (row.session_binding !== expected.sessionBinding) return { kind: 'other_session' };
    return {
      kind: 'ok',
      pending: {
        state: row.state,
        tenant: row.tenant,
        subject: row.subject,
        app: row.app,
        consentId: row.consent_id,
        sessionBinding: row.session_binding,
        codeVerifier: row.code_verifier,
        redirectUri: row.redirect_uri,
      },
    };
  }
}
