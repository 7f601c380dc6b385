/**
 * The worker's check of a schedule's identity (a signed identity whose binding names a `schedule`).
 *
 * A schedule starts each run under a new workflow id (the action's id plus `-<start time>`), so the
 * identity in its action cannot name the run it will act in. Instead it names the schedule, and is
 * accepted on a run only when all of this holds:
 *  1. the run's root workflow id is the action's id followed by an RFC 3339 start time;
 *  2. Baton's database still holds that schedule, for the same user and tool, and that user is not
 *     disabled (deleting the schedule or disabling the user withdraws the identity, even from runs
 *     already under way: both are checked at every step);
 *  3. Temporal itself records the root run as taken by that schedule: the schedule's recent or running
 *     actions list the root's workflow id *and* the run id of its first execution. (A client can start
 *     a look-alike id, and can even set the `TemporalScheduledById` search attribute on it — it is only
 *     a quick first filter here — but cannot put a run into a schedule's action history.)
 *  4. the root run is of the schedule's tool and was started with exactly the arguments the user
 *     scheduled (read from its first history event), so even a schedule re-made in Temporal under the
 *     same id cannot run the identity on other arguments.
 * The first step of a run asks Temporal; the verified run is then kept in the database (which also puts
 * it on the user's Runs page), and later steps of the same execution only look it up there.
 */
import type { Context } from '@temporalio/activity';
import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { canonicalJson } from '../core/canonical-json.ts';
import type { VerifiedIdentity } from '../core/identity/context.ts';
import { IdentityRejectedError } from '../core/identity/errors.ts';
import type { ScheduleStore } from '../core/schedules/schedule-store.ts';

export type ScheduledRunCheck = (verified: VerifiedIdentity, runPath: string[], context: Context) => Promise<void>;

/** Set by Temporal on the runs a schedule starts (and settable by any client, so only a first filter). */
const TemporalScheduledById = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

/** What Temporal appends to a schedule action's workflow id: the nominal start time, to the second, UTC. */
const START_TIME_SUFFIX = /^-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export function isScheduledRunId(workflowId: string, prefix: string): boolean {
  return workflowId.startsWith(prefix) && START_TIME_SUFFIX.test(workflowId.slice(prefix.length));
}

export interface ScheduledRunCheckOptions {
  store: ScheduleStore;
  /**
   * How long one attempt keeps asking when the schedule does not list the run yet: the scheduler
   * records an action only after the start it made returns, and the run's first step can get here
   * before that (normally by milliseconds; on a loaded server by seconds). An attempt with retries
   * left then fails retryably, so the identity check (a local activity, 3 attempts) waits ~3× this.
   */
  settleMs?: number;
}

export function createScheduledRunCheck({ store, settleMs = 3_000 }: ScheduledRunCheckOptions): ScheduledRunCheck {
  return async ({ identity, binding }, runPath, context) => {
    const scheduleId = binding.schedule!;
    const root = runPath[0]!;
    const prefix = binding.rootWorkflowId;
    if (!isScheduledRunId(root, prefix)) {
      throw new IdentityRejectedError(`The identity was signed for the runs of schedule "${scheduleId}" but is used by run "${root}", which is not one of them.`);
    }
    const schedule = await store.get(scheduleId);
    if (!schedule) throw new IdentityRejectedError(`The identity belongs to schedule "${scheduleId}", which no longer exists; deleting a schedule withdraws its identity.`);
    if (schedule.tenant !== identity.tenant || schedule.subject !== identity.subject || schedule.tool !== binding.tool || schedule.workflowIdPrefix !== prefix) {
      throw new IdentityRejectedError(`The identity does not match schedule "${scheduleId}" (its owner, tool or run ids differ).`);
    }
    // Checked at every step, so disabling the user stops even a run under way; enabling them again resumes the schedule.
    if (await store.isDisabled(identity)) throw new IdentityRejectedError(`The owner of schedule "${scheduleId}" (${identity.subject}) has been disabled; their schedules act no more.`);
    const execution = context.info.workflowExecution;
    if (!execution) throw new IdentityRejectedError('A schedule identity is only accepted inside a workflow run.');
    const atRoot = runPath.length === 1;
    const known = await store.scheduledRun(root);
    // Later steps of an execution already verified. A child's steps trust the root's verification: only
    // workflow code of a verified root starts children with this path.
    if (known && known.scheduleId === scheduleId && (!atRoot || known.runId === execution.runId)) return;

    const client = context.client;
    const description = await client.workflow
      .getHandle(root)
      .describe()
      .catch((error: unknown) => {
        // Temporal unreachable is worth another attempt; a root it does not know is not.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        throw new IdentityRejectedError(`Run "${root}" is unknown to Temporal, so it cannot have been started by schedule "${scheduleId}".`);
      });
    if (description.type !== binding.tool) throw new IdentityRejectedError(`Run "${root}" is a "${description.type}" run; schedule "${scheduleId}" runs "${binding.tool}".`);
    if (atRoot && description.runId !== execution.runId) throw new IdentityRejectedError(`Run "${root}" has moved on to another execution; this step's identity is not accepted.`);
    // Every run a schedule starts carries this; its absence settles the matter at once. Its presence
    // proves nothing (any client may set it), hence the schedule's own record below.
    if (description.typedSearchAttributes.get(TemporalScheduledById) !== scheduleId) {
      throw new IdentityRejectedError(`Run "${root}" was not started by schedule "${scheduleId}"; a schedule's identity acts only in the runs it starts.`);
    }
    const firstRunId = description.raw.workflowExecutionInfo?.firstRunId || description.runId;

    await confirmTakenBySchedule(context, scheduleId, root, firstRunId, settleMs);
    const input = await firstInput(context, root, firstRunId);
    if (canonicalJson(input) !== canonicalJson(schedule.arguments)) {
      throw new IdentityRejectedError(`Run "${root}" was not started with the arguments of schedule "${scheduleId}".`);
    }
    await store.recordScheduledRun({
      workflowId: root,
      runId: atRoot ? execution.runId : description.runId,
      scheduleId,
      tenant: identity.tenant,
      subject: identity.subject,
      tool: binding.tool,
      startedAt: description.startTime.getTime(),
    });
  };
}

/** Temporal's own record of what the schedule started: its recent and running actions. */
async function confirmTakenBySchedule(context: Context, scheduleId: string, workflowId: string, firstRunId: string, settleMs: number): Promise<void> {
  // Within the attempt's own time limit, leaving room for the rest of the check.
  const deadline = Date.now() + Math.max(500, Math.min(settleMs, context.info.startToCloseTimeoutMs - 2000));
  for (let pause = 100; ; pause = Math.min(pause * 2, 1000)) {
    let taken: { workflowId: string; firstExecutionRunId: string }[];
    try {
      const { info } = await context.client.schedule.getHandle(scheduleId).describe();
      taken = [...info.recentActions.map((result) => result.action.workflow), ...info.runningActions.map((action) => action.workflow)];
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) throw new IdentityRejectedError(`Temporal has no schedule "${scheduleId}"; its identity is not accepted.`);
      throw error;
    }
    if (taken.some((action) => action.workflowId === workflowId && action.firstExecutionRunId === firstRunId)) return;
    if (Date.now() >= deadline) {
      // A busy scheduler may record its action late: an attempt with retries left asks again (a plain,
      // retryable failure); the last one refuses for good.
      const { attempt, retryPolicy } = context.info;
      if (attempt < (retryPolicy?.maximumAttempts ?? 1)) throw new Error(`Schedule "${scheduleId}" does not list run "${workflowId}" yet; asking again.`);
      throw new IdentityRejectedError(`Temporal does not record run "${workflowId}" as started by schedule "${scheduleId}"; a schedule's identity acts only in the runs it starts.`);
    }
    await sleep(pause);
  }
}

/** The tool input the run was started with (its first history event). */
async function firstInput(context: Context, workflowId: string, runId: string): Promise<unknown> {
  const { history } = await context.client.workflowService.getWorkflowExecutionHistory({
    namespace: context.info.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new IdentityRejectedError(`Run "${workflowId}" has no input to compare with its schedule's.`);
  return defaultPayloadConverter.fromPayload(payload);
}
