/**
 * Each `baton.awaitOutcome` update writes events to the run's history, and Temporal caps a history's length
 * and its updates: a client calling get_run_result in a tight loop would grow the run's history until Temporal
 * refuses it. So each run gets at most `perMinute` update waits from this gateway; past that, the gateway reads
 * the run's status by query (which writes nothing) and answers at once.
 *
 * @example
 * ```ts
 * const budget = new UpdateBudget(10);
 * budget.take('run-1'); // true, ten times a minute; then false until the minute has passed
 * ```
 */
export class UpdateBudget {
  readonly #perMinute: number;
  readonly #used = new Map<string, { since: number; count: number }>();

  constructor(perMinute: number) {
    this.#perMinute = perMinute;
  }

  /** Whether run `runId` may have one more update wait now (counted when it may). */
  take(runId: string, now = Date.now()): boolean {
    if (this.#used.size > 10_000) this.#forgetBefore(now - 60_000);
    const used = this.#used.get(runId);
    if (!used || now - used.since >= 60_000) {
      this.#used.set(runId, { since: now, count: 1 });
      return true;
    }
    if (used.count >= this.#perMinute) return false;
    used.count += 1;
    return true;
  }

  #forgetBefore(time: number): void {
    for (const [runId, used] of this.#used) if (used.since < time) this.#used.delete(runId);
  }
}
