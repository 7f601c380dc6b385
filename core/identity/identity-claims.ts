import type { SqlDatabase } from '../db.ts';

/**
 * Which execution first used each run's signed identity. The identity names its root workflow id, and
 * Temporal lets anyone who may start workflows start another execution under a closed run's id (id reuse):
 * the first execution to present the identity claims it, and every later one is refused. An execution's
 * continue-as-new successors keep its first run id, so they still match.
 *
 * @example
 * const first = await claims.claim('triage_pull_request-4f1…', info.firstExecutionRunId);
 * if (first !== info.firstExecutionRunId) throw new IdentityRejectedError('replayed on a new execution');
 */
export class IdentityClaims {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /** Records `firstRunId` for the root unless another execution claimed it first; returns the claiming run id. */
  async claim(rootWorkflowId: string, firstRunId: string): Promise<string> {
    await this.#db.run('INSERT INTO identity_claims (root_workflow_id, first_run_id, claimed_at) VALUES (?, ?, ?) ON CONFLICT (root_workflow_id) DO NOTHING', rootWorkflowId, firstRunId, Date.now());
    const row = await this.#db.get<{ first_run_id: string }>('SELECT first_run_id FROM identity_claims WHERE root_workflow_id = ?', rootWorkflowId);
    return row!.first_run_id;
  }
}
