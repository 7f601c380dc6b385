import type { SqlDatabase } from '../db.ts';

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

  /** Resolves to false when the user was already disabled (the first record stands). */
  async disable(user: { tenant: string; subject: string }, by: string, reason: string | null = null): Promise<boolean> {
    const { changes } = await this.#db.run(
      'INSERT INTO disabled_users (tenant, subject, disabled_at, disabled_by, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, subject) DO NOTHING',
      user.tenant,
      user.subject,
      Date.now(),
      by,
      reason,
    );
    return changes === 1;
  }

  /** Resolves to false when the user was not disabled. */
  async enable(user: { tenant: string; subject: string }): Promise<boolean> {
    return (await this.#db.run('DELETE FROM disabled_users WHERE tenant = ? AND subject = ?', user.tenant, user.subject)).changes === 1;
  }

  async find(tenant: string, subject: string): Promise<DisabledUser | undefined> {
    const row = await this.#db.get<Row>('SELECT * FROM disabled_users WHERE tenant = ? AND subject = ?', tenant, subject);
    return row && toDisabled(row);
  }

  async list(tenant?: string): Promise<DisabledUser[]> {
    const rows = tenant
      ? await this.#db.all<Row>('SELECT * FROM disabled_users WHERE tenant = ? ORDER BY subject', tenant)
      : await this.#db.all<Row>('SELECT * FROM disabled_users ORDER BY tenant, subject');
    return rows.map(toDisabled);
  }
}

/** The message a disabled user gets, everywhere the gateway refuses them. */
export function disabledMessage(user: DisabledUser): string {
  return `${user.subject} has been disabled by an administrator (since ${new Date(user.disabledAt).toISOString()})${user.reason ? `: ${user.reason}` : ''}. Baton refuses every call of this account until an administrator enables it again.`;
}
