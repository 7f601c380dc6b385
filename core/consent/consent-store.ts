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

  /** Idempotent: an activity retried after a crash records the same request once. */
  record(request: Omit<ConsentRequest, 'status' | 'createdAt' | 'resolvedAt'>): void {
    this.#db.run(
      `INSERT INTO consent_requests (id, tenant, subject, app, scopes, reason, root_workflow_id, waiting_workflow_id, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (id) DO NOTHING`,
      request.id, request.tenant, request.subject, request.app, JSON.stringify(request.scopes), request.reason,
      request.rootWorkflowId, request.waitingWorkflowId, Date.now(),
    );
  }

  get(id: string): ConsentRequest | undefined {
    const row = this.#db.get<ConsentRow>('SELECT * FROM consent_requests WHERE id = ?', id);
    return row && toRequest(row);
  }

  pendingFor(tenant: string, subject: string, app: string): ConsentRequest[] {
    return this.#db
      .all<ConsentRow>(`SELECT * FROM consent_requests WHERE tenant = ? AND subject = ? AND app = ? AND status = 'pending' ORDER BY created_at`, tenant, subject, app)
      .map(toRequest);
  }

  /** Every request still waiting on this user, oldest first (the runs page shows a Connect button for each). */
  pendingForUser(tenant: string, subject: string): ConsentRequest[] {
    return this.#db.all<ConsentRow>(`SELECT * FROM consent_requests WHERE tenant = ? AND subject = ? AND status = 'pending' ORDER BY created_at`, tenant, subject).map(toRequest);
  }

  /** Closes a pending request; returns false when it was already closed (nothing changes then). */
  resolve(id: string, status: Exclude<ConsentStatus, 'pending'>): boolean {
    return this.#db.run(`UPDATE consent_requests SET status = ?, resolved_at = ? WHERE id = ? AND status = 'pending'`, status, Date.now(), id).changes === 1;
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
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
  };
}
