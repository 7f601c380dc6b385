import type { RequestHandler } from 'express';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { SqlDatabase } from '../../core/db.ts';
import { actorOf } from '../audit/actor.ts';
import { extrasOf } from '../mcp/mcp-server.ts';

export interface DisabledUser {
  tenant: string;
  subject: string;
  disabledAt: number;
  /** Who disabled them (a subject, or `operator:<os user>` for the CLI). */
  disabledBy: string;
  reason: string | null;
}

interface Row {
  tenant: string;
  subject: string;
  disabled_at: number;
  disabled_by: string;
  reason: string | null;
}

const toDisabled = (row: Row): DisabledUser => ({
  tenant: row.tenant,
  subject: row.subject,
  disabledAt: Number(row.disabled_at),
  disabledBy: row.disabled_by,
  reason: row.reason,
});

/**
 * Users an admin has disabled: the gateway refuses every call of theirs until they are enabled again.
 * In the database, so a change applies on the next request at every gateway.
 */
export class DisabledUsers {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /** Returns false when the user was already disabled (the first record stands). */
  disable(user: { tenant: string; subject: string }, by: string, reason: string | null = null): boolean {
    return this.#db.run(
      'INSERT INTO disabled_users (tenant, subject, disabled_at, disabled_by, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, subject) DO NOTHING',
      user.tenant, user.subject, Date.now(), by, reason,
    ).changes === 1;
  }

  /** Returns false when the user was not disabled. */
  enable(user: { tenant: string; subject: string }): boolean {
    return this.#db.run('DELETE FROM disabled_users WHERE tenant = ? AND subject = ?', user.tenant, user.subject).changes === 1;
  }

  find(tenant: string, subject: string): DisabledUser | undefined {
    const row = this.#db.get<Row>('SELECT * FROM disabled_users WHERE tenant = ? AND subject = ?', tenant, subject);
    return row && toDisabled(row);
  }

  list(tenant?: string): DisabledUser[] {
    const rows = tenant
      ? this.#db.all<Row>('SELECT * FROM disabled_users WHERE tenant = ? ORDER BY subject', tenant)
      : this.#db.all<Row>('SELECT * FROM disabled_users ORDER BY tenant, subject');
    return rows.map(toDisabled);
  }
}

/** The message a disabled user gets, everywhere the gateway refuses them. */
export function disabledMessage(user: DisabledUser): string {
  return `${user.subject} has been disabled by an administrator (since ${new Date(user.disabledAt).toISOString()})${user.reason ? `: ${user.reason}` : ''}. Baton refuses every call of this account until an administrator enables it again.`;
}

/**
 * Runs `authenticate`, then refuses a disabled user with 403 and an `access.denied` audit record. Wraps the
 * MCP endpoints' authentication (bearer and passthrough alike) and the signed-in APIs'.
 */
export function refuseDisabledUsers(authenticate: RequestHandler, deps: { disabledUsers: DisabledUsers; audit: AuditLog }): RequestHandler {
  return (req, res, next) => {
    authenticate(req, res, (error?: unknown) => {
      if (error !== undefined) return next(error);
      const { principal } = extrasOf(req.auth);
      const disabled = deps.disabledUsers.find(principal.tenant, principal.subject);
      if (!disabled) return next();
      const message = disabledMessage(disabled);
      deps.audit.record({
        kind: 'access.denied',
        outcome: 'denied',
        actor: actorOf(principal),
        client: principal.clientId,
        action: `${req.method} ${req.baseUrl}${req.path}`,
        message,
        detail: { reason: 'user_disabled', disabledBy: disabled.disabledBy },
      });
      res.status(403).json({ error: 'access_denied', error_description: message });
    });
  };
}
