import type { SqlDatabase } from '../db.ts';
import type { Principal } from '../identity/principal.ts';

/**
 * What 2025-era clients said they can do. Those clients declare capabilities once, at `initialize`,
 * and the gateway serves them statelessly (any gateway may get the next request), so the declaration
 * is kept in the database per user and OAuth client (or API token) rather than in a session.
 */
export class LegacyClientCapabilities {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  async recordInitialize(principal: Principal, capabilities: unknown): Promise<void> {
    const elicitation = (capabilities as { elicitation?: { url?: unknown } } | undefined)?.elicitation;
    const urlElicitation = typeof elicitation?.url === 'object' && elicitation.url !== null;
    await this.#db.run(
      `INSERT INTO mcp_legacy_clients (tenant, subject, client_key, url_elicitation, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant, subject, client_key) DO UPDATE SET url_elicitation = excluded.url_elicitation, updated_at = excluded.updated_at`,
      principal.tenant,
      principal.subject,
      clientKey(principal),
      urlElicitation ? 1 : 0,
      Date.now(),
    );
  }

  async supportsUrlElicitation(principal: Principal): Promise<boolean> {
    const row = await this.#db.get<{ url_elicitation: number }>(
      'SELECT url_elicitation FROM mcp_legacy_clients WHERE tenant = ? AND subject = ? AND client_key = ?',
      principal.tenant,
      principal.subject,
      clientKey(principal),
    );
    return row?.url_elicitation === 1;
  }
}

const clientKey = (principal: Principal) => principal.clientId ?? principal.apiTokenId ?? 'unknown-client';
