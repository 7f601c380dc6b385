import type { SqlDatabase } from '../db.ts';

export interface RegisteredRun {
  workflowId: string;
  tenant: string;
  subject: string;
  tool: string;
  argumentsDigest: string;
  createdAt: number;
  deliveredAt: number | null;
}

interface Row {
  workflow_id: string;
  tenant: string;
  subject: string;
  tool: string;
  arguments_digest: string;
  created_at: number;
  delivered_at: number | null;
}

const toRun = (row: Row): RegisteredRun => ({
  workflowId: row.workflow_id,
  tenant: row.tenant,
  subject: row.subject,
  tool: row.tool,
  argumentsDigest: row.arguments_digest,
  createdAt: row.created_at,
  deliveredAt: row.delivered_at,
});

/**
 * Every run started through the gateway, with whose it is and whether its outcome has reached the
 * caller yet. It lives in the database, not in a gateway's memory, so a retry landing on any gateway
 * (or on a restarted one) finds the run to re-attach to; and it is how a run id is checked to belong
 * to the caller before anything about it is revealed.
 */
export class RunRegistry {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  async recordStarted(run: Omit<RegisteredRun, 'createdAt' | 'deliveredAt'>): Promise<void> {
    await this.#db.run(
      'INSERT INTO gateway_runs (workflow_id, tenant, subject, tool, arguments_digest, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, NULL)',
      run.workflowId,
      run.tenant,
      run.subject,
      run.tool,
      run.argumentsDigest,
      Date.now(),
    );
  }

  /**
   * The caller was told to come back (the run paused for consent, or outlived the wait): a later call of
   * the same tool with the same arguments by the same user is that come-back, not a new request.
   */
  async markHandedBack(workflowId: string): Promise<void> {
    await this.#db.run('UPDATE gateway_runs SET handed_back_at = ? WHERE workflow_id = ? AND handed_back_at IS NULL', Date.now(), workflowId);
  }

  /**
   * The run a repeated call re-attaches to: the newest of this user's runs of the same call that was
   * handed back and whose outcome they have not received. A run still in its first call is never
   * matched, so two separate identical requests made at once stay two runs.
   */
  async findHandedBack(user: { tenant: string; subject: string }, tool: string, argumentsDigest: string, notBefore: number): Promise<RegisteredRun | undefined> {
    const row = await this.#db.get<Row>(
      `SELECT * FROM gateway_runs WHERE tenant = ? AND subject = ? AND tool = ? AND arguments_digest = ?
       AND handed_back_at IS NOT NULL AND delivered_at IS NULL AND handed_back_at >= ?
       ORDER BY handed_back_at DESC LIMIT 1`,
      user.tenant,
      user.subject,
      tool,
      argumentsDigest,
      notBefore,
    );
    return row && toRun(row);
  }

  /** The run, only if it belongs to this user: someone else's run id reveals nothing, not even that it exists. */
  async findOwned(workflowId: string, user: { tenant: string; subject: string }): Promise<RegisteredRun | undefined> {
    const row = await this.#db.get<Row>('SELECT * FROM gateway_runs WHERE workflow_id = ? AND tenant = ? AND subject = ?', workflowId, user.tenant, user.subject);
    return row && toRun(row);
  }

  /** The user's runs whose outcome has not been delivered: in flight, paused, or finished but not yet fetched. */
  async undelivered(user: { tenant: string; subject: string }): Promise<RegisteredRun[]> {
    const rows = await this.#db.all<Row>('SELECT * FROM gateway_runs WHERE tenant = ? AND subject = ? AND delivered_at IS NULL ORDER BY created_at', user.tenant, user.subject);
    return rows.map(toRun);
  }

  /** The user's own runs, newest first (the account pages' run list; MCP tasks/list), those started before `before` (ms) when given; never anyone else's. */
  async listFor(user: { tenant: string; subject: string }, limit: number, before = Number.MAX_SAFE_INTEGER): Promise<RegisteredRun[]> {
    const bounded = Math.min(Math.max(Math.trunc(limit), 1), 1000);
    const rows = await this.#db.all<Row>('SELECT * FROM gateway_runs WHERE tenant = ? AND subject = ? AND created_at < ? ORDER BY created_at DESC LIMIT ?', user.tenant, user.subject, before, bounded);
    return rows.map(toRun);
  }

  async markDelivered(workflowId: string): Promise<void> {
    await this.#db.run('UPDATE gateway_runs SET delivered_at = ? WHERE workflow_id = ? AND delivered_at IS NULL', Date.now(), workflowId);
  }
}
