import type { SqlDatabase } from '../db.ts';

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

  /** Resolves to false when the entry was already there (the first one stands). */
  async add(grant: Omit<AccessGrant, 'addedAt'>): Promise<boolean> {
    const { changes } = await this.#db.run(
      'INSERT INTO access_grants (server, kind, value, added_by, added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      grant.server,
      grant.kind,
      grant.value,
      grant.addedBy,
      Date.now(),
    );
    return changes === 1;
  }

  async remove(server: string, kind: GrantKind, value: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM access_grants WHERE server = ? AND kind = ? AND value = ?', server, kind, value)).changes === 1;
  }

  async forList(server: string): Promise<AccessGrant[]> {
    const rows = await this.#db.all<Row>('SELECT * FROM access_grants WHERE server = ? ORDER BY kind, value', server);
    return rows.map(toGrant);
  }

  /** The entries of several lists in one read (a tools listing checks the server's list and each tool's). */
  async forLists(servers: readonly string[]): Promise<AccessGrant[]> {
    if (servers.length === 0) return [];
    const rows = await this.#db.all<Row>(`SELECT * FROM access_grants WHERE server IN (${servers.map(() => '?').join(', ')}) ORDER BY server, kind, value`, ...servers);
    return rows.map(toGrant);
  }
}

interface Row {
  server: string;
  kind: GrantKind;
  value: string;
  added_by: string;
  added_at: number;
}

const toGrant = (row: Row): AccessGrant => ({ server: row.server, kind: row.kind, value: row.value, addedBy: row.added_by, addedAt: row.added_at });
