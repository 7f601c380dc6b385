import type { SqlDatabase } from '../db.ts';

export interface PendingAuthorization {
  state: string;
  tenant: string;
  subject: string;
  app: string;
  codeVerifier: string;
  redirectUri: string;
}

const LIFETIME_MS = 15 * 60 * 1000;

/**
 * Authorizations sent to an app and not yet answered, by OAuth `state`. Single use: taking one
 * deletes it, so a replayed callback finds nothing.
 */
export class PendingAuthorizations {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS oauth_pending_authorizations (
      state TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      subject TEXT NOT NULL,
      app TEXT NOT NULL,
      code_verifier TEXT NOT NULL,
      redirect_uri TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    )`);
  }

  add(pending: PendingAuthorization): void {
    this.#db.run('DELETE FROM oauth_pending_authorizations WHERE expires_at < ?', Date.now());
    this.#db.run(
      'INSERT INTO oauth_pending_authorizations (state, tenant, subject, app, code_verifier, redirect_uri, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      pending.state, pending.tenant, pending.subject, pending.app, pending.codeVerifier, pending.redirectUri, Date.now() + LIFETIME_MS,
    );
  }

  take(state: string): PendingAuthorization | undefined {
    return this.#db.transaction(() => {
      const row = this.#db.get<{ state: string; tenant: string; subject: string; app: string; code_verifier: string; redirect_uri: string; expires_at: number }>(
        'SELECT * FROM oauth_pending_authorizations WHERE state = ?',
        state,
      );
      if (!row) return undefined;
      this.#db.run('DELETE FROM oauth_pending_authorizations WHERE state = ?', state);
      if (row.expires_at < Date.now()) return undefined;
      return { state: row.state, tenant: row.tenant, subject: row.subject, app: row.app, codeVerifier: row.code_verifier, redirectUri: row.redirect_uri };
    });
  }
}
