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
    // One statement on the run's start path: a conflict keeps the first claim and returns it.
    const row = await this.#db.get<{ first_run_id: string }>(
      `INSERT INTO identity_claims (root_workflow_id, first_run_id, claimed_at) VALUES (?, ?, ?)
       ON CONFLICT (root_workflow_id) DO UPDATE SET first_run_id = identity_claims.first_run_id RETURNING first_run_id`,
      rootWorkflowId,
      firstRunId,
      Date.now(),
    );
    return row!.first_run_id;
  }
}
