import type { SqlDatabase } from '../db.ts';

/** When a schedule fires: a cron expression (Temporal's syntax) or a fixed interval. */
export interface ScheduleTiming {
  cron?: string;
  intervalSeconds?: number;
  /** IANA time zone the cron expression is read in; UTC when absent. */
  timezone?: string;
}

export interface ScheduleRecord {
  /** Also the Temporal schedule id. */
  id: string;
  tenant: string;
  subject: string;
  tool: string;
  arguments: unknown;
  timing: ScheduleTiming;
  note: string | null;
  /** The schedule action's workflow id; each run's id is this plus `-<start time>`. */
  workflowIdPrefix: string;
  /** When the schedule's signed identity expires (epoch ms); the schedule ends a day before. */
  identityExpiresAt: number;
  createdAt: number;
}

/** A run a schedule started, as the worker verified it (see activities/scheduled-runs.ts). */
export interface ScheduledRun {
  workflowId: string;
  /** The run id Temporal gave the execution the worker verified. */
  runId: string;
  scheduleId: string;
  tenant: string;
  subject: string;
  tool: string;
  startedAt: number;
}

interface ScheduleRow {
  id: string;
  tenant: string;
  subject: string;
  tool: string;
  arguments: string;
  timing: string;
  note: string | null;
  workflow_id_prefix: string;
  identity_expires_at: number;
  created_at: number;
}

interface ScheduledRunRow {
  workflow_id: string;
  run_id: string;
  schedule_id: string;
  tenant: string;
  subject: string;
  tool: string;
  started_at: number;
}

const toSchedule = (row: ScheduleRow): ScheduleRecord => ({
  id: row.id,
  tenant: row.tenant,
  subject: row.subject,
  tool: row.tool,
  arguments: JSON.parse(row.arguments) as unknown,
  timing: JSON.parse(row.timing) as ScheduleTiming,
  note: row.note,
  workflowIdPrefix: row.workflow_id_prefix,
  identityExpiresAt: Number(row.identity_expires_at),
  createdAt: Number(row.created_at),
});

const toScheduledRun = (row: ScheduledRunRow): ScheduledRun => ({
  workflowId: row.workflow_id,
  runId: row.run_id,
  scheduleId: row.schedule_id,
  tenant: row.tenant,
  subject: row.subject,
  tool: row.tool,
  startedAt: Number(row.started_at),
});

/**
 * Users' schedules, and the runs they started. The database, not Temporal's memo, says whose a schedule
 * is: the gateway checks ownership here, and a worker accepts a schedule's identity only while its row
 * is here for the same user and tool — deleting the row withdraws the identity even from runs in flight.
 * Nothing here is a secret (the signed identity lives only in the Temporal schedule's action header).
 */
export class ScheduleStore {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
    // Its tables come with the schema migrations (core/storage/migrations.ts, version 2).
  }

  async create(schedule: ScheduleRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO baton_schedules (id, tenant, subject, tool, arguments, timing, note, workflow_id_prefix, identity_expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      schedule.id,
      schedule.tenant,
      schedule.subject,
      schedule.tool,
      JSON.stringify(schedule.arguments ?? null),
      JSON.stringify(schedule.timing),
      schedule.note,
      schedule.workflowIdPrefix,
      schedule.identityExpiresAt,
      schedule.createdAt,
    );
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const row = await this.#db.get<ScheduleRow>('SELECT * FROM baton_schedules WHERE id = ?', id);
    return row && toSchedule(row);
  }

  /** The schedule, only if it is this user's: someone else's id reveals nothing, not even that it exists. */
  async findOwned(id: string, user: { tenant: string; subject: string }): Promise<ScheduleRecord | undefined> {
    const row = await this.#db.get<ScheduleRow>('SELECT * FROM baton_schedules WHERE id = ? AND tenant = ? AND subject = ?', id, user.tenant, user.subject);
    return row && toSchedule(row);
  }

  async listFor(user: { tenant: string; subject: string }): Promise<ScheduleRecord[]> {
    const rows = await this.#db.all<ScheduleRow>('SELECT * FROM baton_schedules WHERE tenant = ? AND subject = ? ORDER BY created_at DESC', user.tenant, user.subject);
    return rows.map(toSchedule);
  }

  /** Everyone's (owners and admins may look), newest first. */
  async listAll(limit: number): Promise<ScheduleRecord[]> {
    const rows = await this.#db.all<ScheduleRow>('SELECT * FROM baton_schedules ORDER BY created_at DESC LIMIT ?', Math.min(Math.max(Math.trunc(limit), 1), 10_000));
    return rows.map(toSchedule);
  }

  async countFor(user: { tenant: string; subject: string }): Promise<number> {
    const row = await this.#db.get<{ n: number }>('SELECT COUNT(*) AS n FROM baton_schedules WHERE tenant = ? AND subject = ?', user.tenant, user.subject);
    return Number(row?.n ?? 0);
  }

  /** Resolves to false when there was no such schedule. */
  async delete(id: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM baton_schedules WHERE id = ?', id)).changes === 1;
  }

  /** Whether an admin has disabled the user (the gateway's `disabled_users`): their schedules then act no more. */
  async isDisabled(user: { tenant: string; subject: string }): Promise<boolean> {
    return (await this.#db.get<{ one: number }>('SELECT 1 AS one FROM disabled_users WHERE tenant = ? AND subject = ?', user.tenant, user.subject)) !== undefined;
  }

  async scheduledRun(workflowId: string): Promise<ScheduledRun | undefined> {
    const row = await this.#db.get<ScheduledRunRow>('SELECT * FROM baton_scheduled_runs WHERE workflow_id = ?', workflowId);
    return row && toScheduledRun(row);
  }

  /** The schedule's runs, newest first. */
  async runsOf(scheduleId: string, limit: number): Promise<ScheduledRun[]> {
    const rows = await this.#db.all<ScheduledRunRow>(
      'SELECT * FROM baton_scheduled_runs WHERE schedule_id = ? ORDER BY started_at DESC LIMIT ?',
      scheduleId,
      Math.min(Math.max(Math.trunc(limit), 1), 1000),
    );
    return rows.map(toScheduledRun);
  }

  /**
   * A run the worker verified as started by its schedule: kept so later steps need not ask Temporal
   * again, and put on the owner's run list (their Runs page and `/api/runs`) — no gateway started it.
   */
  async recordScheduledRun(run: ScheduledRun): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO baton_scheduled_runs (workflow_id, run_id, schedule_id, tenant, subject, tool, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workflow_id) DO UPDATE SET run_id = excluded.run_id`,
        run.workflowId,
        run.runId,
        run.scheduleId,
        run.tenant,
        run.subject,
        run.tool,
        run.startedAt,
      );
      // The gateway's run registry (gateway_runs, created by the schema migrations): never re-attached by an
      // MCP call (not handed back), never "delivered": it is the owner's to look at.
      await tx.run(
        `INSERT INTO gateway_runs (workflow_id, tenant, subject, tool, arguments_digest, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (workflow_id) DO NOTHING`,
        run.workflowId,
        run.tenant,
        run.subject,
        run.tool,
        `schedule:${run.scheduleId}`,
        run.startedAt,
      );
    });
  }
}
