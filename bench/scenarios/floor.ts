import { randomUUID } from 'node:crypto';
import { sendAppRequest } from '../../core/http/app-request.ts';
import type { DemoUserName, GatewayStack } from '../../test/support/gateway-stack.ts';
import { timed } from '../stats.ts';
import { demoTenant, demoUsers } from './warm-up.ts';

export interface FloorSamples {
  /** GitHub pulls.get alone: what read_pull_request does at the app. */
  read: number[];
  /** pulls.get, chat.postMessage, chat.getPermalink, issues.create in order: what triage_pull_request does. */
  triage: number[];
}

type Headers = Record<string, string>;

/**
 * The floor: the demo's app calls made directly from this process with `sendAppRequest` and the very
 * credentials the worker uses (read from the vault once, before timing), no gateway, Temporal or worker.
 * Writes carry a fresh idempotency key, as the worker's do, so the sandbox does the same work.
 */
export async function measureFloor(gs: GatewayStack, iterations: number, progress: (line: string) => void): Promise<FloorSamples> {
  const { userHeaders, jiraHeaders } = await demoCredentials(gs);

  const samples: FloorSamples = { read: [], triage: [] };
  for (let i = 0; i < iterations; i += 1) {
    const headers = userHeaders.get(demoUsers[i % demoUsers.length]!)!;
    samples.read.push(await timed(() => call(gs, 'github', 'pulls.get', { owner: 'acme', repo: 'widgets', pull_number: 1 }, headers.github)));
    samples.triage.push(
      await timed(async () => {
        const pr = (await call(gs, 'github', 'pulls.get', { owner: 'acme', repo: 'widgets', pull_number: 1 }, headers.github)) as { title: string; html_url: string };
        const summary = `acme/widgets#1 "${pr.title}"`;
        const posted = (await call(gs, 'slack', 'chat.postMessage', { channel: '#triage', text: `Triage: ${summary} ${pr.html_url}` }, headers.slack)) as { channel: string; ts: string };
        const { permalink } = (await call(gs, 'slack', 'chat.getPermalink', { channel: posted.channel, message_ts: posted.ts }, headers.slack)) as { permalink: string };
        await call(gs, 'jira', 'issues.create', { projectKey: 'OPS', summary: `Triage ${summary}`, description: `${summary}\n${pr.html_url}\nSlack: ${permalink}` }, jiraHeaders);
      }),
    );
    if ((i + 1) % Math.max(1, Math.floor(iterations / 2)) === 0) progress(`floor: ${i + 1}/${iterations}`);
  }
  return samples;
}

/**
 * The credentials the worker uses for the demo's app calls, read from the vault: each demo user's GitHub and
 * Slack tokens, and the Jira service account (which the worker stores at start) as a Basic credential.
 */
export async function demoCredentials(gs: GatewayStack): Promise<{ userHeaders: Map<DemoUserName, { github: Headers; slack: Headers }>; jiraHeaders: Headers }> {
  const userHeaders = new Map<DemoUserName, { github: Headers; slack: Headers }>();
  for (const user of demoUsers) {
    userHeaders.set(user, { github: await bearer(gs, user, 'github'), slack: await bearer(gs, user, 'slack') });
  }
  const jira = await gs.stack.stores.vault.getServiceCredential('jira');
  if (!jira?.username || !jira.password) throw new Error('no Jira service account in the vault (the worker stores it at start)');
  return { userHeaders, jiraHeaders: { authorization: `Basic ${Buffer.from(`${jira.username}:${jira.password}`).toString('base64')}` } };
}

async function bearer(gs: GatewayStack, user: DemoUserName, app: string): Promise<Headers> {
  const { accessToken } = await gs.stack.stores.vault.resolveUserAccessToken({
    tenant: demoTenant,
    subject: user,
    app,
    // Sandbox tokens live an hour and were just issued; a refresh here would mean the bench is misconfigured.
    refresh: () => Promise.reject(new Error(`unexpected refresh of ${user}'s ${app} token during the bench`)),
  });
  return { authorization: `Bearer ${accessToken}` };
}

/** One connector action, exactly as the call_app activity builds, sends and reads it. */
async function call(gs: GatewayStack, appId: string, actionName: string, input: unknown, headers: Headers): Promise<unknown> {
  const app = gs.stack.settings.apps.get(appId);
  const action = app?.connector.actions[actionName];
  if (!action || !app) throw new Error(`unknown app action ${appId} ${actionName}`);
  const request = action.toRequest(action.input.parse(input));
  const { status, body } = await sendAppRequest(app.endpoints.apiBaseUrl, request, headers, { idempotencyKey: `bench-floor-${randomUUID()}` });
  const answer = action.readAnswer(status, body);
  if (answer.kind !== 'ok') throw new Error(`${appId} ${actionName}: ${answer.message}`);
  return answer.result;
}
