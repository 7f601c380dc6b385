/**
 * One prompt per app, once: a user with nothing connected calls `triage_pull_request` (GitHub and Slack as
 * themselves) and is asked to connect each app exactly once, however the client retries and whenever the
 * user finishes in the browser — with the official client's 2026-07-28 `input_required` driver (URL
 * elicitation), and in the 2025-era forms (-32042 elicitations; text a model reads, then calls again).
 * Still asked: an app the run genuinely needs again (its connection revoked mid-run). Still reported: a
 * consent the user denied.
 */
import type { Client } from '@modelcontextprotocol/client';
import type { ConsentRequest } from '../core/consent/consent-store.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { alice } from './support/identities.ts';
import { runsOf } from './support/runs.ts';
import { until } from './support/until.ts';

let gs: GatewayStack;
// The gateway waits at most 2 s per round, so a user slower than that shows what happens between rounds.
gatewayStackForSuite((started) => (gs = started), { env: { BATON_MCP_WAIT_SECONDS: '2' } });

const modern = { versionNegotiation: { mode: { pin: '2026-07-28' } } } as const;
const triage = { name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
type App = 'github' | 'slack';

let testStarted = 0;
beforeEach(async () => {
  testStarted = Date.now();
  for (const app of ['github', 'slack']) await gs.stack.stores.vault.deleteConnection('acme', 'alice', app);
});

/** Resolves once this test's run waits on Slack in its third level (notify_team), the run's own request. */
const runPausedOnSlack = () =>
  until('the run to pause on Slack', async () =>
    (await gs.stack.stores.consents.pendingForUser('acme', 'alice')).find(
      (request: ConsentRequest) => request.createdAt >= testStarted && request.app === 'slack' && request.waitingWorkflowId.includes('/notify_team'),
    ),
  );

const appOf = (message: string): App => (/GitHub/.test(message) ? 'github' : /Slack/.test(message) ? 'slack' : (message as App));
const count = (apps: string[]) => Object.fromEntries([...new Set(apps)].sort().map((app) => [app, apps.filter((a) => a === app).length]));
const triageRuns = () => runsOf(gs.stack, 'triage_pull_request');

/**
 * A 2026-07-28 client with URL elicitation, as alice. Every prompt it shows the user goes through
 * `onPrompt` (which may finish the consent in the browser, start it, or dismiss the prompt) and is counted.
 */
async function modernClient(onPrompt: (app: App, url: string) => Promise<'accept' | 'decline'>) {
  const client: Client = await gs.connect(await gs.tokenFor('alice'), { ...modern, capabilities: { elicitation: { url: {} } } });
  const prompts: App[] = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { mode: string; message: string; url: string };
    expect(params.mode).toBe('url');
    const app = appOf(params.message);
    prompts.push(app);
    return { action: await onPrompt(app, params.url) };
  });
  return { client, prompts };
}

/** What the user does in the browser, kept so the test can wait for every page to finish. */
function browser() {
  const visits: Promise<{ status: number; text: string }>[] = [];
  const finished = new Map<App, Promise<unknown>>();
  return {
    visit(app: App, url: string, after: Promise<unknown> = Promise.resolve(), decision: 'approve' | 'deny' = 'approve') {
      const visit = after.then(() => gs.consentInBrowser(url, 'alice', decision));
      visits.push(visit);
      finished.set(app, visit);
      return visit;
    },
    finished: (app: App) => finished.get(app) ?? Promise.resolve(),
    all: () => Promise.all(visits),
  };
}

describe('2026-07-28 client, input_required with URL elicitation', () => {
  test.each([
    ['finishes each consent in the browser before answering the prompt', 'before', 0],
    ['answers each prompt at once and finishes both in the browser meanwhile', 'meanwhile', 0],
    ['answers at once, finishes GitHub, then Slack a moment later (the run pauses on Slack itself)', 'meanwhile', 150],
    ['answers at once and takes longer for Slack than the gateway waits per round', 'meanwhile', 2500],
  ] as const)(
    'the user %s: one prompt per app, the result, one run',
    async (_, when, slackDelayMs) => {
      const runsBefore = await triageRuns();
      const pages = browser();
      const { client, prompts } = await modernClient(async (app, url) => {
        const visit = pages.visit(app, url, app === 'slack' ? pages.finished('github').then(() => sleep(slackDelayMs)) : undefined);
        if (when === 'before') await visit;
        return 'accept';
      });
      const rounds: number[] = [];

      const result = await client.callTool(triage, { onprogress: ({ progress }) => void rounds.push(progress) });

      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ title: expect.any(String), jiraKey: expect.stringMatching(/^OPS-\d+$/), commentUrl: expect.any(String) });
      expect(count(prompts)).toEqual({ github: 1, slack: 1 });
      expect((await pages.all()).map((page) => page.text)).toEqual(
        expect.arrayContaining([expect.stringContaining('GitHub connected as @alice'), expect.stringContaining('Slack connected as @alice')]),
      );
      expect((await triageRuns()).filter((run) => !runsBefore.includes(run))).toHaveLength(1);
      // A user slower than the gateway's wait: the rounds in between carry only the state, no prompt.
      if (slackDelayMs > 2000) expect(rounds.length).toBeGreaterThan(1);
      await client.close();
    },
    120_000,
  );

  test('whenever the user finishes Slack relative to the run reaching it, Slack is asked for once', async () => {
    // The run's Slack step may fail for want of a connection just before the user connects Slack, and record
    // its request just after the connect flow signalled every waiting request: the retry must not ask again.
    for (const slackDelayMs of [0, 30, 60, 90, 120, 180]) {
      await gs.stack.stores.vault.deleteConnection('acme', 'alice', 'github');
      await gs.stack.stores.vault.deleteConnection('acme', 'alice', 'slack');
      const pages = browser();
      const { client, prompts } = await modernClient(async (app, url) => {
        void pages.visit(app, url, app === 'slack' ? pages.finished('github').then(() => sleep(slackDelayMs)) : undefined);
        return 'accept';
      });
      const result = await client.callTool(triage);
      await pages.all();
      expect({ slackDelayMs, prompts: count(prompts), jiraKey: (result.structuredContent as { jiraKey?: string } | undefined)?.jiraKey }).toEqual({
        slackDelayMs,
        prompts: { github: 1, slack: 1 },
        jiraKey: expect.stringMatching(/^OPS-/),
      });
      await client.close();
    }
  }, 180_000);

  test('a consent denied at the app is reported as the run failing, after one prompt per app', async () => {
    const pages = browser();
    const { client, prompts } = await modernClient(async (app, url) => {
      void pages.visit(app, url, undefined, app === 'github' ? 'deny' : 'approve');
      return 'accept';
    });

    const result = await client.callTool(triage);

    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ status: 'failed', error: expect.stringContaining('declined to connect GitHub') });
    expect(count(prompts)).toEqual({ github: 1, slack: 1 });
    await pages.all();
    await client.close();
  }, 120_000);

  test('a genuinely new need is asked for: GitHub revoked between the run’s two GitHub calls is asked for again', async () => {
    const token = await gs.tokenFor('alice');
    const pages = browser();
    const { client, prompts } = await modernClient(async (app, url) => {
      if (app === 'github') {
        await pages.visit(app, url);
        return 'accept';
      }
      // Slack: once the run has read the pull request and paused on Slack, alice disconnects GitHub, then connects Slack.
      await pages.finished('github');
      await runPausedOnSlack();
      const revoked = await fetch(`${gs.url}/api/connections/github`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      expect(revoked.status).toBe(200);
      await pages.visit(app, url);
      return 'accept';
    });

    const result = await client.callTool(triage);

    expect(result.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-/), commentUrl: expect.any(String) });
    expect(prompts).toEqual(['github', 'slack', 'github']);
    await client.close();
  }, 120_000);

  test('a dismissed prompt ends the call with the links instead of asking again; calling again later gets the result of the same run', async () => {
    const runsBefore = await triageRuns();
    const pages = browser();
    let slackLink = '';
    const { client, prompts } = await modernClient(async (app, url) => {
      if (app === 'slack') {
        slackLink = url;
        return 'decline';
      }
      await pages.visit(app, url);
      return 'accept';
    });

    const first = await client.callTool(triage);

    expect(first.structuredContent).toEqual({ status: 'auth_required', runId: expect.any(String), authorizationUrls: { slack: slackLink } });
    expect(count(prompts)).toEqual({ github: 1, slack: 1 });
    await gs.consentInBrowser(slackLink, 'alice');
    const again = await client.callTool(triage);
    expect(again.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-/) });
    expect(count(prompts)).toEqual({ github: 1, slack: 1 });
    expect((await triageRuns()).filter((run) => !runsBefore.includes(run))).toHaveLength(1);
    await client.close();
  }, 120_000);
});

/**
 * Slack connected while the run waits on it, but without the run being told — as when its request lands
 * just after the connect flow signalled every waiting request: the connection made meanwhile answers it.
 */
async function connectSlackBehindTheRunsBack(): Promise<void> {
  await runPausedOnSlack();
  const { info, secret } = slackConnection!;
  await gs.stack.stores.vault.putConnection({
    ...secret!,
    tenant: 'acme',
    subject: 'alice',
    app: 'slack',
    expiresAt: info.expiresAt ?? undefined,
    scopes: info.scopes,
    externalAccountId: info.externalAccountId,
    externalLogin: info.externalLogin,
  });
}
let slackConnection: Awaited<ReturnType<GatewayStack['stack']['stores']['vault']['takeConnectionForRevocation']>>;

describe('Slack connected before the run recorded that it waits for it', () => {
  beforeEach(async () => {
    await gs.stack.consent(alice, 'github');
    // A real Slack connection, taken out of the vault to be put back while the run waits.
    await gs.stack.consent(alice, 'slack');
    slackConnection = await gs.stack.stores.vault.takeConnectionForRevocation('acme', 'alice', 'slack');
    expect(slackConnection?.secret).toBeTruthy();
  });

  test('2026-07-28: the retry does not ask for Slack again; the run is told and finishes', async () => {
    const { client, prompts } = await modernClient(async () => {
      await connectSlackBehindTheRunsBack();
      return 'accept';
    });
    const result = await client.callTool(triage);
    expect(result.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-/) });
    expect(prompts).toEqual(['slack']);
    await client.close();
  }, 120_000);

  test('2025-era text: calling again gets the result, not the Slack link again', async () => {
    const client = await gs.connect(await gs.tokenFor('alice'));
    const first = await client.callTool(triage);
    expect(first.structuredContent).toMatchObject({ status: 'auth_required', authorizationUrls: { slack: expect.any(String) } });
    await connectSlackBehindTheRunsBack();
    const again = await client.callTool(triage);
    expect(again.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-/) });
    // The request the run waited on is closed, and the trail says what answered it.
    const runId = String((again._meta as Record<string, unknown>)['baton/runId']);
    const granted = (await gs.stack.stores.audit.query({ rootRunId: runId })).filter((record) => record.kind === 'consent.granted');
    expect(granted).toEqual([expect.objectContaining({ app: 'slack', message: expect.stringContaining('connection made after the run asked') })]);
    await client.close();
  }, 120_000);
});

describe('2025-era clients', () => {
  test('-32042: after GitHub only, the retry asks for Slack alone, with the same elicitation as before; after Slack, the result', async () => {
    const client = await gs.connect(await gs.tokenFor('alice'), { capabilities: { elicitation: { url: {} } } });
    const elicitationsOf = (call: Promise<unknown>) =>
      call.then(
        () => undefined,
        (error: { code: number; data: { elicitations: { elicitationId: string; url: string; message: string }[] } }) => {
          expect(error.code).toBe(-32042);
          return error.data.elicitations;
        },
      );

    const first = await elicitationsOf(client.callTool(triage));
    expect(first!.map((e) => appOf(e.message))).toEqual(['github', 'slack']);
    await gs.consentInBrowser(first![0]!.url, 'alice');

    const second = await elicitationsOf(client.callTool(triage));
    // GitHub is not asked for again; Slack's is the same elicitation (id and link), so a client showing each once shows it once.
    expect(second!.map((e) => [e.elicitationId, e.url])).toEqual([[first![1]!.elicitationId, first![1]!.url]]);
    await gs.consentInBrowser(second![0]!.url, 'alice');

    const result = await client.callTool(triage);
    expect(result.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-/) });
    await client.close();
  }, 120_000);

  test('text: after both consents, calling again at once gets the result; no link again', async () => {
    const client = await gs.connect(await gs.tokenFor('alice'));
    const first = (await client.callTool(triage)).structuredContent as { authorizationUrls: Record<string, string> };
    expect(Object.keys(first.authorizationUrls).sort()).toEqual(['github', 'slack']);
    await Promise.all(Object.values(first.authorizationUrls).map((url) => gs.consentInBrowser(url, 'alice')));
    const again = await client.callTool(triage);
    expect(again.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-/) });
    await client.close();
  }, 120_000);
});
