import { ScheduleClient, ScheduleNotFoundError, ScheduleOverlapPolicy, ServiceError, type Client, type ScheduleSpec } from '@temporalio/client';
import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { IdentitySigner } from '../../core/identity/signer.ts';
import type { ScheduleRecord, ScheduleStore, ScheduleTiming } from '../../core/schedules/schedule-store.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import type { RunOptions } from '../../workflows/protocol.ts';
import { BatonTool, BatonUser } from '../../workflows/search-attributes.ts';
import { actorOf } from '../audit/actor.ts';
import type { Principal } from '../auth/principal.ts';
import { identityOf } from '../mcp/tool-runner.ts';
import { actingAs, identityScheduleInterceptor } from '../temporal/identity-propagation.ts';

/** Temporal refused the schedule as given (a bad cron expression or time zone, say): the caller's to fix. */
export class InvalidScheduleError extends Error {
  override name = 'InvalidScheduleError';
}

/** What Temporal says about a schedule now, for its owner. */
export interface ScheduleLiveState {
  paused: boolean;
  nextRunTimes: Date[];
  runsStarted: number;
}

export interface ScheduleServiceDependencies {
  client: Client;
  sign: IdentitySigner;
  store: ScheduleStore;
  audit: AuditLog;
  taskQueue: string;
  consentTimeoutMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Users' schedules as Temporal Schedules. Each has a start-workflow action on Baton's task queue, of the
 * tool's workflow type, with the arguments and options startTool would use and the BatonUser/BatonTool
 * search attributes, and — as a header of the action — the creator's identity, signed and bound to
 * this schedule (see core/identity/signer.ts and activities/scheduled-runs.ts). Each run is therefore
 * the creator's, with their connections, and pauses for consent like any other when one is missing.
 */
export class ScheduleService {
  readonly #deps: ScheduleServiceDependencies;
  /** The gateway's Temporal connection, with the interceptor that puts the identity on the action. */
  readonly #schedules: ScheduleClient;

  constructor(deps: ScheduleServiceDependencies) {
    this.#deps = deps;
    const { client } = deps;
    this.#schedules = new ScheduleClient({
      connection: client.connection,
      namespace: client.options.namespace,
      dataConverter: client.options.dataConverter,
      identity: client.options.identity,
      interceptors: [identityScheduleInterceptor],
    });
  }

  /**
   * Creates the schedule as `principal`. The database row comes first, so a run the schedule starts at
   * once already finds it; if Temporal refuses, the row goes again.
   */
  async create(principal: Principal, request: { tool: CallableDefinition; input: unknown; timing: ScheduleTiming; note: string | null; server: string }): Promise<ScheduleRecord> {
    const { sign, store, audit, taskQueue, consentTimeoutMs } = this.#deps;
    const { tool, input, timing, note } = request;
    const id = `sched-${randomUUID()}`;
    const workflowIdPrefix = `${tool.name}-${id}`;
    // The audit trail's "client" of every step of these runs names the schedule that started them.
    const identity = { ...identityOf(principal, request.server), client: `schedule:${id}` };
    const token = await sign(identity, { rootWorkflowId: workflowIdPrefix, tool: tool.name, schedule: id });
    const identityExpiresAt = (decodeJwt(token).exp ?? 0) * 1000;
    const record: ScheduleRecord = {
      id,
      tenant: principal.tenant,
      subject: principal.subject,
      tool: tool.name,
      arguments: input,
      timing,
      note,
      workflowIdPrefix,
      identityExpiresAt,
      createdAt: Date.now(),
    };
    await store.create(record);
    const searchAttributes = [
      { key: BatonUser, value: principal.subject },
      { key: BatonTool, value: tool.name },
    ];
    const options: RunOptions = { consentTimeoutMs };
    try {
      await actingAs(token, () =>
        this.#schedules.create({
          scheduleId: id,
          // It ends a day before its identity would expire, so no run ever starts with an expired one.
          spec: { ...specOf(timing), endAt: new Date(identityExpiresAt - DAY_MS) },
          action: { type: 'startWorkflow', workflowType: tool.name, taskQueue, workflowId: workflowIdPrefix, args: [input, options], typedSearchAttributes: searchAttributes },
          // While a run waits for consent the next ones are skipped, not piled up; an outage is not caught up on.
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute', pauseOnFailure: false },
          state: { note: note ?? `Created by ${principal.subject} through Baton.` },
          typedSearchAttributes: searchAttributes,
        }),
      );
    } catch (error) {
      await store.delete(id);
      const refusal = invalidArgument(error);
      throw refusal === undefined ? error : new InvalidScheduleError(`Temporal refused the schedule: ${refusal}.`);
    }
    await audit.record({
      kind: 'schedule.created',
      outcome: 'ok',
      actor: actorOf(principal),
      client: principal.clientId,
      server: request.server,
      tool: tool.name,
      action: 'schedule.create',
      message: `${principal.subject} scheduled ${tool.name} (${describeTiming(timing)}).`,
      detail: { scheduleId: id, ...timingDetail(timing), identityExpiresAt: new Date(identityExpiresAt).toISOString() },
    });
    return record;
  }

  /** Temporal's view of the schedule (paused, next runs); null when Temporal no longer has it. */
  async liveState(id: string): Promise<ScheduleLiveState | null> {
    try {
      const description = await this.#schedules.getHandle(id).describe();
      return { paused: description.state.paused, nextRunTimes: description.info.nextActionTimes, runsStarted: description.info.numActionsTaken };
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return null;
      throw error;
    }
  }

  /**
   * Deletes the schedule in Temporal, then its row: from then on no run starts, and the identity it
   * carried is refused even in its runs already under way (their next step fails IdentityRejected).
   */
  async delete(schedule: ScheduleRecord, by: Principal): Promise<void> {
    try {
      await this.#schedules.getHandle(schedule.id).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    await this.#deps.store.delete(schedule.id);
    await this.#deps.audit.record({
      kind: 'schedule.deleted',
      outcome: 'ok',
      actor: actorOf(by),
      client: by.clientId,
      tool: schedule.tool,
      action: 'schedule.delete',
      message: `${by.subject} deleted schedule ${schedule.id} (${schedule.tool}).`,
      detail: { scheduleId: schedule.id, targetTenant: schedule.tenant, targetSubject: schedule.subject },
    });
  }
}

function specOf(timing: ScheduleTiming): ScheduleSpec {
  const when: ScheduleSpec = timing.cron !== undefined ? { cronExpressions: [timing.cron] } : { intervals: [{ every: `${timing.intervalSeconds}s` }] };
  return timing.timezone ? { ...when, timezone: timing.timezone } : when;
}

export function describeTiming(timing: ScheduleTiming): string {
  if (timing.cron !== undefined) return `cron "${timing.cron}"${timing.timezone ? ` in ${timing.timezone}` : ''}`;
  return `every ${timing.intervalSeconds} s`;
}

function timingDetail(timing: ScheduleTiming): Record<string, string | number> {
  return {
    ...(timing.cron !== undefined ? { cron: timing.cron } : {}),
    ...(timing.intervalSeconds !== undefined ? { intervalSeconds: timing.intervalSeconds } : {}),
    ...(timing.timezone ? { timezone: timing.timezone } : {}),
  };
}

/**
 * Temporal's INVALID_ARGUMENT answer, as text; undefined for any other failure. The client turns a bad
 * spec (a cron expression, a time zone) into a TypeError with the server's words.
 */
function invalidArgument(error: unknown): string | undefined {
  if (error instanceof TypeError) return error.message;
  const cause = error instanceof ServiceError ? (error.cause as { code?: number; details?: string } | undefined) : undefined;
  return cause?.code === 3 ? (cause.details ?? (error as Error).message) : undefined;
}
