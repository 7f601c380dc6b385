import type { SqlDatabase } from '../db.ts';

/**
 * Results of app calls that succeeded, by step key. When Temporal retries a step whose app call
 * already went through (the worker died before reporting it), the stored result is returned and the
 * app is not called again. Results hold what the app returned to the workflow, never credentials.
 */
export class StepStore {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  async find(stepKey: string): Promise<{ result: unknown } | undefined> {
    const row = await this.#db.get<{ result: string }>('SELECT result FROM step_results WHERE step_key = ?', stepKey);
    return row && { result: JSON.parse(row.result) };
  }

  async save(stepKey: string, result: unknown): Promise<void> {
    await this.#db.run('INSERT INTO step_results (step_key, result, completed_at) VALUES (?, ?, ?) ON CONFLICT (step_key) DO NOTHING', stepKey, JSON.stringify(result ?? null), Date.now());
  }
}
