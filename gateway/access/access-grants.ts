import type { SqlDatabase } from '../../core/db.ts';

export type GrantKind = 'user' | 'group' | 'api_token';

export interface AccessGrant {
  /** Whose list: an MCP server's name, or `tool:<name>` for a tool's own list. */
  server: string;
  kind: GrantKind;
  value: string;
  addedBy: string;
  addedAt: number;
}

/**
 * Access-list entries added at run time (admin CLI or API), on top of the configuration file's. Read
 * on every request, so a change takes effect on the next call, on every gateway, without a restart.
 */
export class AccessGrants {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  add(grant: Omit<AccessGrant, 'addedAt'>): boolean {
    return this.#db.run('INSERT INTO access_grants (server, kind, value, added_by, added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', grant.server, grant.kind, grant.value, grant.addedBy, Date.now()).changes === 1;
  }

  remove(server: string, kind: GrantKind, value: string): boolean {
    return this.#db.run('DELETE FROM access_grants WHERE server = ? AND kind = ? AND value = ?', server, kind, value).changes === 1;
  }

  forList(server: string): AccessGrant[] {
    return this.#db
      .all<{ server: string; kind: GrantKind; value: string; added_by: string; added_at: number }>('SELECT * FROM access_grants WHERE server = ? ORDER BY kind, value', server)
      .map((row) => ({ server: row.server, kind: row.kind, value: row.value, addedBy: row.added_by, addedAt: row.added_at }));
  }
}
