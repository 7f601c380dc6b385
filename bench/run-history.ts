import type { WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

/** The moments of a run that paused for consent once and was resumed by the consent signal (epoch ms). */
export interface ResumeMoments {
  signalledAt: number;
  /** The first activity (the retried app call) picked up by the worker after the signal. */
  activityStartedAt: number;
}

/** Protobuf timestamp (seconds may be a Long) to epoch milliseconds, keeping the sub-millisecond part. */
function epochMs(ts: HistoryEvent['eventTime']): number {
  if (!ts) throw new Error('history event without a time');
  return Number(String(ts.seconds ?? 0)) * 1000 + (ts.nanos ?? 0) / 1e6;
}

/**
 * Reads the resume out of the run's Temporal history. Temporal writes an ActivityTaskStarted event of
 * an activity with a retry policy only when the attempt ends, but stamps it with the time the worker
 * actually picked the task up, so its time is the start of the call, not its end.
 */
export function resumeMoments(history: History): ResumeMoments {
  const events = history.events ?? [];
  const signalIndex = events.findIndex((event) => event.workflowExecutionSignaledEventAttributes);
  if (signalIndex < 0) throw new Error('the run was never signalled: it did not pause for consent');
  const started = events.slice(signalIndex + 1).find((event) => event.activityTaskStartedEventAttributes);
  if (!started) throw new Error('no activity started after the consent signal');
  return { signalledAt: epochMs(events[signalIndex]!.eventTime), activityStartedAt: epochMs(started.eventTime) };
}
