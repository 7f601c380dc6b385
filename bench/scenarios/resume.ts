import { CookieKeepingClient } from '../../sandbox/browserless-consent.ts';
import type { DemoUserName, GatewayStack } from '../../test/support/gateway-stack.ts';
import { callOk, type BenchClients } from '../clients.ts';
import { consentTimingCallback, type CallbackTiming } from '../consent-walk.ts';
import { resumeMoments } from '../run-history.ts';
import { demoTenant, demoUsers } from './warm-up.ts';

export interface ResumeSamples {
  /** Callback response fully read by the browser → the paused run's next activity started (the headline). */
  fromCallbackReturned: number[];
  /** Callback request sent → next activity started: includes storing the connection and signalling. */
  fromCallbackSent: number[];
  /** Signal recorded in history → next activity started: Temporal and the worker alone. */
  fromSignal: number[];
}

/**
 * Consent-resume latency. Each round removes the user's GitHub connection, calls read_pull_request (the
 * run starts, its GitHub step finds no connection and the run pauses), completes consent over HTTP while
 * timing Baton's callback, then reads from the run's history when the retried GitHub call started.
 * All instants come from this machine's clock (the Temporal dev server runs here too).
 */
export async function measureResume(gs: GatewayStack, clients: BenchClients, rounds: number, progress: (line: string) => void): Promise<ResumeSamples> {
  const samples: ResumeSamples = { fromCallbackReturned: [], fromCallbackSent: [], fromSignal: [] };
  const timings = new Map<DemoUserName, CallbackTiming[]>();
  const consentClients = await Promise.all(
    demoUsers.map(async (user) => {
      // One browser per user: after the first round it has a Baton session, like a returning user.
      const browser = new CookieKeepingClient();
      timings.set(user, []);
      const client = await clients.connect(user, async (url) => {
        timings.get(user)!.push(await consentTimingCallback(gs, url, user, browser));
      });
      return { user, client };
    }),
  );
  try {
    for (let round = 0; round < rounds; round += 1) {
      const { user, client } = consentClients[round % consentClients.length]!;
      if (!(await gs.stack.stores.vault.deleteConnection(demoTenant, user, 'github'))) throw new Error(`${user} had no GitHub connection to remove`);
      const seen = timings.get(user)!.length;
      const { runId } = await callOk(client, 'read_pull_request');
      const callbacks = timings.get(user)!.slice(seen);
      if (callbacks.length !== 1) throw new Error(`expected one consent per round, got ${callbacks.length}`);
      if (!runId) throw new Error('the completed result did not name its run (_meta baton/runId)');
      const callback = callbacks[0]!;
      const moments = resumeMoments(await gs.stack.client.workflow.getHandle(runId).fetchHistory());
      samples.fromCallbackReturned.push(moments.activityStartedAt - callback.returnedAt);
      samples.fromCallbackSent.push(moments.activityStartedAt - callback.sentAt);
      samples.fromSignal.push(moments.activityStartedAt - moments.signalledAt);
      progress(`resume ${round + 1}/${rounds} (${user}): ${(moments.activityStartedAt - callback.returnedAt).toFixed(1)} ms after the callback returned`);
    }
  } finally {
    await Promise.all(consentClients.map(({ client }) => client.close()));
  }
  return samples;
}
