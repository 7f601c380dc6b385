import type { SqlDatabase } from '../db.ts';

export interface AppCallRecord {
  at: number;
  subject: string;
  email: string | null;
  tenant: string;
  authMethod: string;
  tool: string;
  rootWorkflowId: string;
  runPath: string[];
  app: string;
  action: string;
  stepKey: string;
  credentialMode: string;
  /** Whose credential was presented: `user` (the caller's own connection) or `service_account`; none when the call never reached the app. */
  credentialOwner: 'user' | 'service_account' | 'none';
  externalAccount: string | null;
  upstreamStatus: number | null;
  /** ok, failed, connection_required, identity_rejected, replayed (answered from the step record). */
  outcome: string;
  objectRef: string | null;
  error: string | null;
  durationMs: number;
}

/** One row per app call. A later issue makes the log tamper-evident and queryable. */
export class AuditLog {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS audit_app_calls (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      subject TEXT NOT NULL,
      email TEXT,
      tenant TEXT NOT NULL,
      auth_method TEXT NOT NULL,
      tool TEXT NOT NULL,
      root_workflow_id TEXT NOT NULL,
      run_path TEXT NOT NULL,
      app TEXT NOT NULL,
      action TEXT NOT NULL,
      step_key TEXT NOT NULL,
      credential_mode TEXT NOT NULL,
      credential_owner TEXT NOT NULL,
      external_account TEXT,
      upstream_status INTEGER,
      outcome TEXT NOT NULL,
      object_ref TEXT,
      error TEXT,
      duration_ms INTEGER NOT NULL
    )`);
  }

  recordAppCall(record: AppCallRecord): void {
    this.#db.run(
      `INSERT INTO audit_app_calls (at, subject, email, tenant, auth_method, tool, root_workflow_id, run_path, app, action, step_key,
        credential_mode, credential_owner, external_account, upstream_status, outcome, object_ref, error, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      record.at, record.subject, record.email, record.tenant, record.authMethod, record.tool, record.rootWorkflowId,
      JSON.stringify(record.runPath), record.app, record.action, record.stepKey, record.credentialMode, record.credentialOwner,
      record.externalAccount, record.upstreamStatus, record.outcome, record.objectRef, record.error, record.durationMs,
    );
  }

  /** Records of one run tree, oldest first. */
  forRun(rootWorkflowId: string): AppCallRecord[] {
    return this.#db
      .all<Record<string, unknown>>('SELECT * FROM audit_app_calls WHERE root_workflow_id = ? ORDER BY id', rootWorkflowId)
      .map((row) => ({
        at: row.at as number,
        subject: row.subject as string,
        email: row.email as string | null,
        tenant: row.tenant as string,
        authMethod: row.auth_method as string,
        tool: row.tool as string,
        rootWorkflowId: row.root_workflow_id as string,
        runPath: JSON.parse(row.run_path as string) as string[],
        app: row.app as string,
        action: row.action as string,
        stepKey: row.step_key as string,
        credentialMode: row.credential_mode as string,
        credentialOwner: row.credential_owner as AppCallRecord['credentialOwner'],
        externalAccount: row.external_account as string | null,
        upstreamStatus: row.upstream_status as number | null,
        outcome: row.outcome as string,
        objectRef: row.object_ref as string | null,
        error: row.error as string | null,
        durationMs: row.duration_ms as number,
      }));
  }
}
