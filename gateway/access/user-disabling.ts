import type { BrowserSessions } from '../../core/sessions/browser-sessions.ts';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { AuditActor } from '../../core/audit/audit-event.ts';
import type { RunRegistry } from '../../core/runs/run-registry.ts';
import type { DisabledUsers } from '../../core/access/disabled-users.ts';

export interface DisableResult {
  /** False when the user was already disabled (their runs are swept again all the same). */
  newlyDisabled: boolean;
  /** Workflow ids of the runs this call cancelled. */
  cancelledRuns: string[];
  /** Runs that could not be cancelled (Temporal unreachable, …), with why; the user stays disabled. */
  failedRuns: Array<{ workflowId: string; error: string }>;
}

/**
 * Disabling a user (admin API or `baton users disable`): from the next request on the gateway refuses
 * them, and every run of theirs started through the gateway whose outcome they have not received is
 * cancelled through Temporal (runs already closed are left as they are). One `admin.change` record
 * names who did it, whom, and how many runs were cancelled.
 */
export class UserDisabling {
  readonly #disabledUsers: DisabledUsers;
  readonly #runs: RunRegistry;
  readonly #client: Client;
  readonly #audit: AuditLog;
  readonly #sessions: BrowserSessions;

  constructor(deps: { disabledUsers: DisabledUsers; runs: RunRegistry; client: Client; audit: AuditLog; sessions: BrowserSessions }) {
    this.#sessions = deps.sessions;
    this.#disabledUsers = deps.disabledUsers;
    this.#runs = deps.runs;
    this.#client = deps.client;
    this.#audit = deps.audit;
  }

  async disable(user: { tenant: string; subject: string }, actor: AuditActor, reason: string | null = null): Promise<DisableResult> {
    // Refuse first, so no new run starts while the old ones are being cancelled.
    const newlyDisabled = await this.#disabledUsers.disable(user, actor.subject, reason);
    // Baton's own pages too: their browser sessions end now, and signing in again is refused.
    const sessionsClosed = await this.#sessions.closeAllFor(user);
    const cancelledRuns: string[] = [];
    const failedRuns: DisableResult['failedRuns'] = [];
    for (const run of await this.#runs.undelivered(user)) {
      try {
        if (await this.#cancelIfOpen(run.workflowId)) cancelledRuns.push(run.workflowId);
      } catch (error) {
        failedRuns.push({ workflowId: run.workflowId, error: error instanceof Error ? error.message : String(error) });
      }
    }
    await this.#audit.record({
      kind: 'admin.change',
      outcome: failedRuns.length === 0 ? 'ok' : 'partial',
      actor,
      action: 'user.disable',
      message: `${user.subject} was disabled${reason ? ` (${reason})` : ''}; ${cancelledRuns.length} in-flight run(s) cancelled${failedRuns.length ? `, ${failedRuns.length} could not be cancelled` : ''}.`,
      detail: {
        targetTenant: user.tenant,
        targetSubject: user.subject,
        runsCancelled: cancelledRuns.length,
        runsNotCancelled: failedRuns.length,
        alreadyDisabled: !newlyDisabled,
        browserSessionsClosed: sessionsClosed,
        reason,
      },
    });
    return { newlyDisabled, cancelledRuns, failedRuns };
  }

  /** Resolves to false when the user was not disabled (nothing is recorded then). */
  async enable(user: { tenant: string; subject: string }, actor: AuditActor): Promise<boolean> {
    if (!(await this.#disabledUsers.enable(user))) return false;
    await this.#audit.record({
      kind: 'admin.change',
      outcome: 'ok',
      actor,
      action: 'user.enable',
      message: `${user.subject} was enabled again.`,
      detail: { targetTenant: user.tenant, targetSubject: user.subject },
    });
    return true;
  }

  /** True when the run was open and is now asked to cancel; false when it had already closed. */
  async #cancelIfOpen(workflowId: string): Promise<boolean> {
    const handle = this.#client.workflow.getHandle(workflowId);
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return false;
      await handle.cancel();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false; // closed meanwhile, or never reached Temporal
      throw error;
    }
  }
}
