import { CookieKeepingClient } from '../../sandbox/browserless-consent.ts';
import type { DemoUserName, GatewayStack } from '../../test/support/gateway-stack.ts';
import { demoArguments, type BenchClients } from '../clients.ts';
import { consentTimingCallback } from '../consent-walk.ts';
import { workerRssBytes } from '../event-loop.ts';
import { demoTenant } from './warm-up.ts';

export interface PausedCrowd {
  runs: number;
  /** POSTs in flight at once while starting the runs. */
  startConcurrency: number;
  /** First POST sent → the last run's 202 "waiting" answer read: every run started and paused on GitHub. */
  startAndPauseAllMs: number;
  /** The consent callback's request sent → its response read (Baton signals every waiting run before answering). */
  callbackMs: number;
  /** Per run: consent callback sent → the run closed (Temporal's close time), ms. */
  completedAfterCallback: number[];
  /** Worker resident set size (its metrics), bytes. */
  workerRss: { before: number; allPaused: number; allCompleted: number };
}

/**
 * One user, no GitHub connection, `runs` read_pull_request runs started through the runs HTTP API
 * (`POST /api/tools/read_pull_request/runs`, the same access decision, identity signing and run registry
 * as an MCP tools/call, without an MCP session per call), each answered only once its run has paused on
 * GitHub (202 "waiting"). Then the user completes consent once, over HTTP as a browser would, and the
 * bench waits until every run has completed; each run's close time comes from Temporal.
 */
export async function measurePausedCrowd(gs: GatewayStack, clients: BenchClients, runs: number, progress: (line: string) => void, startConcurrency = 20): Promise<PausedCrowd> {
  const user: DemoUserName = 'alice';
  const metricsUrl = gs.stack.workerMetricsUrl;
  const token = await clients.token(user);
  const before = await workerRssBytes(metricsUrl);
  if (!(await gs.stack.stores.vault.deleteConnection(demoTenant, user, 'github'))) throw new Error(`${user} had no GitHub connection to remove`);

  const runIds: string[] = [];
  let consentUrl: string | undefined;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: startConcurrency }, async () => {
      while (next < runs) {
        next += 1;
        const response = await fetch(`${gs.url}/api/tools/read_pull_request/runs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ arguments: demoArguments, wait: 60 }),
        });
        const body = (await response.json()) as { runId?: string; status?: string; waitingFor?: { app: string; connectUrl: string }[] };
        const waiting = body.waitingFor?.find((w) => w.app === 'github');
        if (response.status !== 202 || body.status !== 'waiting' || !waiting || !body.runId)
          throw new Error(`expected the run to pause on GitHub (202 waiting), got ${response.status} ${JSON.stringify(body)}`);
        runIds.push(body.runId);
        consentUrl ??= waiting.connectUrl;
        if (runIds.length % Math.max(1, Math.floor(runs / 5)) === 0) progress(`paused crowd: ${runIds.length}/${runs} runs paused on GitHub`);
      }
    }),
  );
  const startAndPauseAllMs = performance.now() - started;
  const allPaused = await workerRssBytes(metricsUrl);

  progress(`paused crowd: one consent for all ${runs}`);
  const callback = await consentTimingCallback(gs, consentUrl!, user, new CookieKeepingClient());
  // One result wait at a time: no pile of long polls on the server while the runs resume.
  for (const runId of runIds) await gs.stack.client.workflow.getHandle(runId).result();
  const completedAfterCallback: number[] = [];
  for (const runId of runIds) {
    const description = await gs.stack.client.workflow.getHandle(runId).describe();
    if (description.status.name !== 'COMPLETED' || !description.closeTime) throw new Error(`run ${runId} ended ${description.status.name}`);
    completedAfterCallback.push(description.closeTime.getTime() - callback.sentAt);
  }
  const allCompleted = await workerRssBytes(metricsUrl);
  progress(`paused crowd: all ${runs} completed, the last ${Math.max(...completedAfterCallback).toFixed(0)} ms after the consent callback was sent`);
  return {
    runs,
    startConcurrency,
    startAndPauseAllMs,
    callbackMs: callback.returnedAt - callback.sentAt,
    completedAfterCallback,
    workerRss: { before, allPaused, allCompleted },
  };
}
