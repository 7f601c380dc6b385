import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { decodeProtectedHeader } from 'jose';
import type { BatonSettings } from '../core/config/settings.ts';
import { IDENTITY_HEADER } from '../core/identity/context.ts';
import { clientConnectionOptions } from '../core/temporal/connection-options.ts';

export interface KeyUsage {
  /** Open runs whose identity was signed with the key. */
  runs: string[];
  /** Temporal schedules whose action carries an identity signed with the key. */
  schedules: string[];
  /** Open runs / schedules examined. */
  examined: number;
}

type Header = { fields?: Record<string, unknown> | null } | null | undefined;

/**
 * Which of Baton's open runs (and schedules) still carry an identity signed with `kid`: they would fail
 * with IdentityRejected once workers stop trusting it. Reads only each run's first history event (its start
 * header, which holds the signed identity, never a secret) and only the JWS header of the identity.
 */
export async function findIdentityKeyUsage(settings: BatonSettings, kid: string): Promise<KeyUsage> {
  const connection = await Connection.connect(clientConnectionOptions(settings.temporal));
  try {
    const client = new Client({ connection, namespace: settings.temporal.namespace });
    const namespace = settings.temporal.namespace;
    const open: { workflowId: string; runId: string }[] = [];
    for await (const run of client.workflow.list({ query: `TaskQueue = "${settings.temporal.taskQueue}" AND ExecutionStatus = "Running"` })) {
      open.push({ workflowId: run.workflowId, runId: run.runId });
    }
    const runs: string[] = [];
    // A few at a time: one small history read per open run.
    for (let index = 0; index < open.length; index += 20) {
      await Promise.all(
        open.slice(index, index + 20).map(async (run) => {
          const history = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution: run, maximumPageSize: 1 });
          const header = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.header as Header;
          if (kidOfHeader(header) === kid) runs.push(run.workflowId);
        }),
      );
    }
    const schedules: string[] = [];
    let scheduleCount = 0;
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await client.workflowService.listSchedules({ namespace, maximumPageSize: 100, nextPageToken });
      for (const entry of page.schedules ?? []) {
        if (!entry.scheduleId) continue;
        scheduleCount += 1;
        const described = await client.workflowService.describeSchedule({ namespace, scheduleId: entry.scheduleId });
        const action = described.schedule?.action?.startWorkflow;
        if (action?.taskQueue?.name === settings.temporal.taskQueue && kidOfHeader(action.header as Header) === kid) schedules.push(entry.scheduleId);
      }
      nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return { runs: runs.sort(), schedules: schedules.sort(), examined: open.length + scheduleCount };
  } finally {
    await connection.close();
  }
}

function kidOfHeader(header: Header): string | undefined {
  const payload = header?.fields?.[IDENTITY_HEADER];
  if (!payload) return undefined;
  try {
    const token = defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
    if (typeof token !== 'string') return undefined;
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}
