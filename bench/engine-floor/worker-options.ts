import type { WorkerOptions } from '@temporalio/worker';

/**
 * The WorkerOptions that decide how fast a worker takes and runs tasks (pollers, workflow cache,
 * concurrency slots). The engine floor's worker must use the values Baton's worker uses
 * (worker/create-worker.ts). Today that worker sets none of them, so both run on the SDK's defaults
 * and this object is empty; when Baton's worker sets one, set the same value here. The bench checks
 * the worker's source for these names and says so when one is set there but not here
 * (see `unmirroredTuning`).
 */
export const floorWorkerTuning: Pick<WorkerOptions, TuningOption> = {};

export const tuningOptions = [
  'maxCachedWorkflows',
  'maxConcurrentWorkflowTaskExecutions',
  'maxConcurrentActivityTaskExecutions',
  'maxConcurrentLocalActivityExecutions',
  'maxConcurrentWorkflowTaskPolls',
  'maxConcurrentActivityTaskPolls',
  'workflowTaskPollerBehavior',
  'activityTaskPollerBehavior',
  'nonStickyToStickyPollRatio',
  'stickyQueueScheduleToStartTimeout',
  'maxTaskQueueActivitiesPerSecond',
  'maxActivitiesPerSecond',
  'tuner',
  'reuseV8Context',
  'workflowThreadPoolSize',
  'maxHeartbeatThrottleInterval',
  'defaultHeartbeatThrottleInterval',
] as const satisfies readonly (keyof WorkerOptions)[];

export type TuningOption = (typeof tuningOptions)[number];

/** The tuning options Baton's worker source names that the floor's worker does not set. */
export function unmirroredTuning(batonWorkerSource: string): TuningOption[] {
  return tuningOptions.filter((name) => new RegExp(`\\b${name}\\b`).test(batonWorkerSource) && !(name in floorWorkerTuning));
}
