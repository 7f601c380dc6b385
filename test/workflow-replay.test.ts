/**
 * Workflow code changes must not break runs already in Temporal: a worker replays a run's history whenever it
 * picks the run up again (after a restart, a cache eviction, a consent days later). Here today's bundle replays
 * histories recorded by earlier workers (test/fixtures/histories/, with what changed since) and a run it made
 * itself, through the SDK's replayer, which fails on any nondeterminism.
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPullRequest } from '../workflows/tools/read-pull-request.ts';
import { undeclaredAppCall } from './fixtures/probe-tools.ts';
import { alice, bob } from './support/identities.ts';
import { Stack } from './support/stack.ts';

const historiesDir = fileURLToPath(new URL('./fixtures/histories/', import.meta.url));
const workflowBundle = { codePath: process.env.BATON_TEST_WORKFLOW_BUNDLE! };

/** Sinks a replay must never call: a replayed run wrote its records when it first ran. */
function sinksCountingCalls() {
  const calls: unknown[] = [];
  return { calls, sinks: { runRecords: { finished: { fn: (_info: unknown, record: unknown) => void calls.push(record) } } } };
}

// Recorded with the worker as it was before the run's finished record moved from a local activity to a sink
// (the commit before "finished record by sink"); `temporal workflow show --output json`.
const recorded = readdirSync(historiesDir).filter((file) => file.endsWith('.json'));

test.each(recorded)('%s, recorded by an earlier worker, replays on today’s workflow code', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(join(historiesDir, file), 'utf8')));
  // Child workflow ids derive from the run's own id, so the replay must know it.
  const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? undefined;
  expect(workflowId).toBeTruthy();
  const { calls, sinks } = sinksCountingCalls();
  await Worker.runReplayHistory({ workflowBundle, sinks }, history, workflowId);
  expect(calls).toEqual([]);
});

describe('a run of today’s worker', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start();
  }, 120_000);
  afterAll(async () => stack?.close());

  test('closes without a local activity for its finished record, writes that record once, and replays', async () => {
    await stack.consent(alice, 'github');
    const handle = await stack.run(alice, readPullRequest, { repo: 'acme/widgets', number: 1 });
    await expect(handle.result()).resolves.toMatchObject({ title: 'Add retry to widget sync' });

    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const markers = events.flatMap((event) => (event.markerRecordedEventAttributes ? [event.markerRecordedEventAttributes.markerName] : []));
    // One local activity: the identity check at the start (which also writes the started record); none at the end.
    expect(markers.filter((name) => name === 'core_local_activity')).toHaveLength(1);
    const completedAt = events.findIndex((event) => event.workflowExecutionCompletedEventAttributes);
    const lastActivity = events.findLastIndex((event) => event.activityTaskCompletedEventAttributes);
    expect(events.slice(lastActivity, completedAt).some((event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toBe(false);

    const records = await stack.stores.audit.query({ rootRunId: handle.workflowId });
    expect(records.filter((record) => record.kind === 'tool_call.finished')).toEqual([
      expect.objectContaining({ outcome: 'completed', actor: expect.objectContaining({ subject: 'alice' }), tool: 'read_pull_request', runPath: [handle.workflowId] }),
    ]);

    const { calls, sinks } = sinksCountingCalls();
    await Worker.runReplayHistory({ workflowBundle, sinks }, history, handle.workflowId);
    expect(calls).toEqual([]);
  });

  test('a failed run and a cancelled one have their finished record as soon as they close', async () => {
    const failed = await stack.run(alice, undeclaredAppCall, {});
    await expect(failed.result()).rejects.toThrow();
    expect(await finishedRecords(failed.workflowId)).toEqual([expect.objectContaining({ outcome: 'failed', message: expect.stringMatching(/does not declare it in `apps`/) })]);

    // Bob has not connected GitHub: the run pauses for consent, and is cancelled while it waits.
    const cancelled = await stack.run(bob, readPullRequest, { repo: 'acme/widgets', number: 1 });
    expect((await stack.awaitOutcome(cancelled)).state).toBe('paused');
    await cancelled.cancel();
    await expect(cancelled.result()).rejects.toThrow();
    expect(await finishedRecords(cancelled.workflowId)).toEqual([expect.objectContaining({ outcome: 'cancelled', actor: expect.objectContaining({ subject: 'bob' }) })]);
  });

  async function finishedRecords(rootRunId: string) {
    return (await stack.stores.audit.query({ rootRunId })).filter((record) => record.kind === 'tool_call.finished');
  }
});
