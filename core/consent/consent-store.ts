import type { SqlDatabase } from '../db.ts';

export type ConsentStatus = 'pending' | 'granted' | 'denied' | 'expired' | 'cancelled';

export interface ConsentRequest {
  id: string;
  tenant: string;
  subject: string;
  app: string;
  scopes: string[];
  reason: string;
  rootWorkflowId: string;
  waitingWorkflowId: string;
  status: ConsentStatus;
  createdAt: number;
  resolvedAt: number | null;
}

interface ConsentRow {
  id: string;
  tenant: string;
  subject: string;
  app: string;
  scopes: string;
  reason: string;
  root_workflow_id: string;
  waiting_workflow_id: string;
  status: ConsentStatus;
  created_at: number;
  resolved_at: number | null;
}

/**
 * Consent requests raised by paused runs. The gateway looks a request up by id when the user opens
 * the consent link, and finds every run of that user waiting on the app once they connected it.
 */
export class ConsentStore {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /**
   * Idempotent: an activity retried after a crash records the same request once. Resolves to true when this
   * call recorded it, false when it was there already (one statement, so of concurrent calls exactly one wins).
   */
  async record(request: Omit<ConsentRequest, 'status' | 'createdAt' | 'resolvedAt'>): Promise<boolean> {
    const { changes } = await this.#db.run(
      `INSERT INTO consent_requests (id, tenant, subject, app, scopes, reason, root_workflow_id, waiting_workflow_id, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (id) DO NOTHING`,
      request.id,
      request.tenant,
      request.subject,
      request.app,
      JSON.stringify(request.scopes),
      request.reason,
      request.rootWorkflowId,
      request.waitingWorkflowId,
      Date.now(),
    );
    return changes === 1;
  }

  async get(id: string): Promise<ConsentRequest | undefined> {
    const row = await this.#db.get<ConsentRow>('SELECT * FROM consent_requests WHERE id = ?', id);
    return row && toRequest(row);
  }

  async pendingFor(tenant: string, subject: string, app: string): Promise<ConsentRequest[]> {
    const rows = await this.#db.all<ConsentRow>(`SELECT * FROM consent_requests WHERE tenant = ? AND subject = ? AND app = ? AND status = 'pending' ORDER BY created_at`, tenant, subject, app);
    return rows.map(toRequest);
  }

  /** Every request still waiting on this user, oldest first (the runs page shows a Connect button for each). */
  async pendingForUser(tenant: string, subject: string): Promise<ConsentRequest[]> {
    const rows = await this.#db.all<ConsentRow>(`SELECT * FROM consent_requests WHERE tenant = ? AND subject = ? AND status = 'pending' ORDER BY created_at`, tenant, subject);
    return rows.map(toRequest);
  }

  /** Closes a pending request; resolves to false when it was already closed (nothing changes then). */
  /**
   * Expires the requests still pending that were made before `createdBefore` (epoch ms): their runs gave up
   * waiting long ago, or ended without settling them (terminated, say). Resolves to how many it expired.
   */
  async expireStale(createdBefore: number): Promise<number> {
    return (await this.#db.run(`UPDATE consent_requests SET status = 'expired', resolved_at = ? WHERE status = 'pending' AND created_at < ?`, Date.now(), createdBefore)).changes;
  }

  async resolve(id: string, status: Exclude<ConsentStatus, 'pending'>): Promise<boolean> {
    const { changes } = await this.#db.run(`UPDATE consent_requests SET status = ?, resolved_at = ? WHERE id = ? AND status = 'pending'`, status, Date.now(), id);
    return changes === 1;
  }
}

function toRequest(row: ConsentRow): ConsentRequest {
  return {
    id: row.id,
    tenant: row.tenant,
    subject: row.subject,
    app: row.app,
    scopes: JSON.parse(row.scopes) as string[],
    reason: row.reason,
    rootWorkflowId: row.root_workflow_id,
    waitingWorkflowId: row.waiting_workflow_id,
    status: row.status,
    createdAt: Number(row.created_at),
    resolvedAt: row.resolved_at === null ? null : Number(row.resolved_at),
  };
}
