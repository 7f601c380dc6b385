import type { ConnectionLike } from '@temporalio/client';

export interface ConnectionWatch {
  /** Whether the last check failed. */
  readonly lost: boolean;
  stop(): void;
}

/**
 * Asks Temporal for its system info every `everyMs` and reports the transitions: the connection was
 * lost (Temporal restarting, the network) and came back. It changes nothing: the worker's pollers and
 * the client reconnect by themselves; this only makes it visible in the process's log.
 */
export function watchTemporalConnection(
  /** A client's or a worker's (NativeConnection) connection. */
  connection: Pick<ConnectionLike, 'withDeadline' | 'workflowService'>,
  on: { lost(reason: string): void; back(afterMs: number): void },
  { everyMs = 2_000, timeoutMs = 2_000 }: { everyMs?: number; timeoutMs?: number } = {},
): ConnectionWatch {
  let lostAt: number | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // The worker's native client retries a failing call for up to ~10 s whatever the deadline: a check
  // still under way counts as failed after `timeoutMs`, and no second one starts while it runs.
  let pending: Promise<unknown> | null = null;
  const check = async () => {
    try {
      pending ??= connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({})).finally(() => (pending = null));
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([pending, new Promise((_, reject) => (giveUp = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)))]).finally(() =>
        clearTimeout(giveUp),
      );
      if (lostAt !== null && !stopped) {
        const afterMs = Date.now() - lostAt;
        lostAt = null;
        on.back(afterMs);
      }
    } catch (error) {
      if (lostAt === null && !stopped) {
        lostAt = Date.now();
        on.lost(
          String((error as Error).message ?? error)
            .replace(/\s+/g, ' ')
            .slice(0, 200),
        );
      }
    }
    if (!stopped) timer = setTimeout(() => void check(), everyMs).unref();
  };
  timer = setTimeout(() => void check(), everyMs).unref();
  return {
    get lost() {
      return lostAt !== null;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
