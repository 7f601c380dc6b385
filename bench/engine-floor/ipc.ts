/** Messages between the bench process and the engine floor's worker process (Node's IPC channel). */
import type { FloorAppConfig } from './activities.ts';

/** The floor worker's event-loop histogram resolution: prom-client's default, which Baton's worker's metrics use. */
export const FLOOR_EVENT_LOOP_RESOLUTION_MS = 10;

export interface EventLoopHistogram {
  count: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  meanNs: number;
}

export type ToFloorWorker = { type: 'config'; config: FloorAppConfig } | { type: 'eventLoop'; id: number };

export type FromFloorWorker = { type: 'ready'; effectiveOptions: Record<string, unknown> } | { type: 'eventLoop'; id: number; histogram: EventLoopHistogram };
