/**
 * Issue 6, "same callable, any trigger": the tools run from the authenticated HTTP API
 * (`POST /api/tools/{name}/runs`, `GET /api/runs/{id}`) and from schedules users create (Temporal
 * Schedules), as the user in each case. A scheduled run acts as its creator with their connections and,
 * when one is missing, pauses for consent (Runs page + webhook) rather than using anything else; its
 * identity cannot be replayed onto a run the schedule did not start.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter, defineSearchAttributeKey, SearchAttributeType, type TypedSearchAttributes } from '@temporalio/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { IDENTITY_HEADER } from '../core/identity/context.ts';
import { DisabledUsers } from '../core/access/disabled-users.ts';
import { ApiTokenStore } from '../core/api-tokens/api-token-store.ts';
import { actingAs } from '../gateway/temporal/identity-propagation.ts';
import type { LoggedRequest } from '../sandbox/server.ts';
import { BatonTool, BatonUser } from '../workflows/search-attributes.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { alice } from './support/identities.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { runsOf } from './support/runs.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

const config = `
servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
tools:
  open_ops_ticket:
    access: { users: [alice] }
roles:
  carol: admin
`;

// A real little webhook receiver, started before the stack so the worker can be told where it is.
const notices: Record<string, unknown>[] = [];
let webhook: Server;
let webhookUrl = '';
beforeAll(async () => {
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      notices.push({ path: req.url, contentType: req.headers['content-type'], ...(JSON.parse(body) as Record<string, unknown>) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/baton-consent`;
});
afterAll(() => new Promise<void>((resolve) => webhook.close(() => resolve())));

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), { config: () => ({ yaml: config, env: { BATON_CONSENT_WEBHOOK_URL: webhookUrl } }) });

let tokens: { alice: string; bob: string };
beforeAll(async () => {
  tokens = { alice: await gs.tokenFor('alice'), bob: await gs.tokenFor('bob') };
  for (const app of ['github', 'slack']) await gs.stack.consent(alice, app);
});

async function api(token: string | null, method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(`${gs.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' }) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, json, headers: response.headers };
}

// carol signs in with a token the identity provider's key signs (the sandbox has only alice and bob).
const carolToken = () => gs.tokenSignedFor('carol', { email: 'carol@example.com' });

async function requestsSince(seq: number): Promise<LoggedRequest[]> {
  return ((await sandboxControl(gs.stack.sandbox.url, `/requests?since=${seq}`)) as { requests: LoggedRequest[] }).requests;
}

/** Asks `probe` until it returns something, for at most `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = 30_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const pr = { repo: 'acme/widgets', number: 1 };

describe('the HTTP API', () => {
  test('refuses callers without a valid token, for runs and schedules alike', async () => {
    for (const [method, path] of [
      ['POST', '/api/tools/read_pull_request/runs'],
      ['GET', '/api/runs/anything'],
      ['GET', '/api/runs'],
      ['POST', '/api/schedules'],
      ['GET', '/api/schedules'],
      ['DELETE', '/api/schedules/x'],
    ] as const) {
      const none = await api(null, method, path, method === 'POST' ? { arguments: pr } : undefined);
      expect([path, none.status]).toEqual([path, 401]);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const forged = await api('not-a-token', method, path);
      expect([path, forged.status]).toEqual([path, 401]);
    }
    expect(await runsOf(gs.stack, 'read_pull_request')).toEqual([]);
  });

  test('runs a tool as the caller and answers with the result; the run is theirs alone', async () => {
    const before = await lastLogSeq(gs.stack.sandbox.url);
    const done = await api(tokens.alice, 'POST', '/api/tools/read_pull_request/runs', { arguments: pr, wait: 30 });
    expect(done.status).toBe(200);
    expect(done.json).toEqual({
      runId: expect.stringMatching(/^read_pull_request-/),
      status: 'completed',
      result: { repo: 'acme/widgets', number: 1, title: expect.any(String), state: 'open', author: expect.any(String), url: expect.any(String) },
    });
    expect(done.headers.get('location')).toBe(`/api/runs/${done.json.runId}`);
    // GitHub saw alice's own token.
    const calls = (await requestsSince(before)).filter((request) => request.app === 'github');
    expect(calls.map((request) => [request.path, request.credential.user, request.credential.valid])).toEqual([['/repos/acme/widgets/pulls/1', 'alice', true]]);

    const followed = await api(tokens.alice, 'GET', done.headers.get('location')!);
    expect(followed.status).toBe(200);
    expect(followed.json).toMatchObject({
      runId: done.json.runId,
      tool: 'read_pull_request',
      state: 'completed',
      steps: [{ app: 'github', action: 'pulls.get', credential: { owner: 'user', externalAccount: 'alice' } }],
    });
    // bob's token on alice's run: nothing, not even that it exists.
    const cross = await api(tokens.bob, 'GET', `/api/runs/${done.json.runId}`);
    expect(cross).toMatchObject({ status: 404, json: { error: 'not_found', message: `No run "${done.json.runId}" of yours is known here.` } });
    expect((await api(tokens.bob, 'GET', '/api/runs')).json.runs.map((run: { runId: string }) => run.runId)).not.toContain(done.json.runId);
  });

  test('a run that pauses for consent answers 202 with the consent link; the caller can follow it', async () => {
    // bob has connected nothing: the run pauses on GitHub.
    const paused = await api(tokens.bob, 'POST', '/api/tools/read_pull_request/runs', { arguments: pr, wait: 30 });
    expect(paused.status).toBe(202);
    expect(paused.json).toEqual({
      runId: expect.stringMatching(/^read_pull_request-/),
      status: 'waiting',
      waitingFor: [{ app: 'github', appName: 'GitHub', connectUrl: expect.stringMatching(new RegExp(`^${gs.url}/connect/[\\w-]+$`)) }],
    });
    expect(paused.headers.get('location')).toBe(`/api/runs/${paused.json.runId}`);
    const followed = await api(tokens.bob, 'GET', paused.headers.get('location')!);
    expect(followed.json).toMatchObject({ state: 'waiting', waitingFor: [{ app: 'github', connectUrl: paused.json.waitingFor[0].connectUrl }] });
    expect((await api(tokens.alice, 'GET', paused.headers.get('location')!)).status).toBe(404);

    // wait: 0 answers at once, before the run has got anywhere.
    const started = await api(tokens.bob, 'POST', '/api/tools/read_pull_request/runs', { arguments: pr, wait: 0 });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ runId: expect.not.stringMatching(paused.json.runId), status: expect.stringMatching(/^(running|waiting)$/) });
    for (const runId of [paused.json.runId, started.json.runId]) await gs.stack.client.workflow.getHandle(runId).cancel();
  });

  test('a run that fails answers 200 with status "failed" and the reason', async () => {
    const failed = await api(tokens.alice, 'POST', '/api/tools/read_pull_request/runs', { arguments: { repo: 'acme/widgets', number: 999_999 }, wait: 30 });
    expect(failed.status).toBe(200);
    expect(failed.json).toEqual({ runId: expect.any(String), status: 'failed', error: expect.stringMatching(/404|not found/i) });
  });

  test("invalid arguments are a 400 with the schema's issues, and nothing starts", async () => {
    const before = (await runsOf(gs.stack, 'read_pull_request')).length;
    const invalid = await api(tokens.alice, 'POST', '/api/tools/read_pull_request/runs', { arguments: { repo: 'acme/widgets', number: -1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toEqual({ error: 'invalid_arguments', message: expect.stringContaining('Invalid arguments for "read_pull_request"'), issues: [expect.stringContaining('number')] });
    const missing = await api(tokens.alice, 'POST', '/api/tools/read_pull_request/runs', {});
    expect(missing.json.error).toBe('invalid_arguments');
    const badBody = await api(tokens.alice, 'POST', '/api/tools/read_pull_request/runs', { arguments: pr, wait: 'soon' });
    expect(badBody).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    const extra = await api(tokens.alice, 'POST', '/api/tools/read_pull_request/runs', { arguments: pr, sneaky: true });
    expect(extra).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    const notJson = await api(tokens.alice, 'POST', '/api/tools/read_pull_request/runs', undefined, '{"arguments": ');
    expect(notJson).toMatchObject({ status: 400, json: { error: 'invalid_request', message: 'The body is not valid JSON.' } });
    expect(await runsOf(gs.stack, 'read_pull_request')).toHaveLength(before);
  });

  test('the same access policy as MCP: a tool bob may not run is a 403 (audited), an unknown one a 404, API tokens get no personal-connection tools', async () => {
    const refused = await api(tokens.bob, 'POST', '/api/tools/open_ops_ticket/runs', { arguments: { summary: 'from bob' } });
    expect(refused).toMatchObject({
      status: 403,
      json: { error: 'forbidden', message: 'You are not on the access list for "open_ops_ticket" on the MCP server "default". Ask an admin to add you (baton access add default user bob).' },
    });
    expect((await gs.stack.stores.audit.query({ kind: 'access.denied', subject: 'bob', tool: 'open_ops_ticket' }))[0]).toMatchObject({
      outcome: 'denied',
      action: 'POST /api/tools/open_ops_ticket/runs',
    });
    expect(await runsOf(gs.stack, 'open_ops_ticket')).toEqual([]);

    const unknown = await api(tokens.alice, 'POST', '/api/tools/delete_everything/runs', { arguments: {} });
    expect(unknown).toMatchObject({ status: 404, json: { error: 'unknown_tool', message: 'Unknown tool "delete_everything".' } });
    // A callable runs only inside a tool: not a tool here either.
    expect((await api(tokens.alice, 'POST', '/api/tools/notify_team/runs', { arguments: {} })).status).toBe(404);

    const ci = (await new ApiTokenStore(gs.stack.stores.db).create('ci-triggers', { tenant: 'acme' })).token;
    const service = await api(ci, 'POST', '/api/tools/read_pull_request/runs', { arguments: pr });
    expect(service).toMatchObject({ status: 403, json: { message: expect.stringContaining('API-token callers have no personal connections') } });

    // alice is on the tool's list: the service-account tool runs for her.
    const allowed = await api(tokens.alice, 'POST', '/api/tools/open_ops_ticket/runs', { arguments: { summary: 'from the HTTP API' }, wait: 30 });
    expect(allowed).toMatchObject({ status: 200, json: { status: 'completed', result: { jiraKey: expect.stringMatching(/^OPS-\d+$/) } } });
  });
});

describe('schedules', () => {
  const TemporalScheduledById = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);
  let scheduleId: string;
  let prefix: string;
  let firstRun: string;

  /** alice's runs of this schedule (her own runs list), newest first. */
  async function scheduledRuns(): Promise<{ runId: string; state: string; waitingFor: { app: string; connectUrl: string }[] }[]> {
    const listed = await api(tokens.alice, 'GET', '/api/runs?limit=50');
    return listed.json.runs.filter((run: { runId: string }) => run.runId.startsWith(`${prefix}-`));
  }

  /**
   * A run's id ends in its start time to the second, so two triggers within one second would name the
   * same run (and Temporal would start only one): each waits for a new second.
   */
  let lastTriggerSecond = 0;
  async function trigger(): Promise<void> {
    while (Math.floor(Date.now() / 1000) <= lastTriggerSecond) await sleep(50);
    lastTriggerSecond = Math.floor(Date.now() / 1000);
    await gs.stack.client.schedule.getHandle(scheduleId).trigger();
  }

  async function triggerAndFindNewRun(seen: string[]): Promise<string> {
    await trigger();
    return eventually(async () => (await scheduledRuns()).find((run) => !seen.includes(run.runId))?.runId, 30_000, "the scheduled run to appear on alice's runs list");
  }

  async function stateOf(runId: string, wanted: string): Promise<any> {
    let last: unknown;
    return eventually(
      async () => {
        const view = await api(tokens.alice, 'GET', `/api/runs/${runId}`);
        last = view.json;
        return view.json.state === wanted ? view.json : undefined;
      },
      20_000,
      `run ${runId} to be ${wanted}`,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}\nWORKER:${gs.stack.worker.output.slice(-4000)}`);
    });
  }

  test('creating one takes the same checks as running the tool', async () => {
    const base = { tool: 'triage_pull_request', arguments: pr, intervalSeconds: 3600 };
    expect(await api(tokens.bob, 'POST', '/api/schedules', { tool: 'open_ops_ticket', arguments: { summary: 'x' }, intervalSeconds: 3600 })).toMatchObject({
      status: 403,
      json: { error: 'forbidden' },
    });
    expect(await api(tokens.alice, 'POST', '/api/schedules', { ...base, arguments: { repo: 'nope' } })).toMatchObject({ status: 400, json: { error: 'invalid_arguments' } });
    expect(await api(tokens.alice, 'POST', '/api/schedules', { ...base, cron: '0 * * * *' })).toMatchObject({
      status: 400,
      json: { error: 'invalid_request', message: expect.stringContaining('exactly one of "cron" and "intervalSeconds"') },
    });
    expect(await api(tokens.alice, 'POST', '/api/schedules', { ...base, intervalSeconds: 5 })).toMatchObject({ status: 400, json: { message: expect.stringContaining('at least 60') } });
    expect(await api(tokens.alice, 'POST', '/api/schedules', { tool: 'triage_pull_request', arguments: pr, cron: 'every full moon' })).toMatchObject({
      status: 400,
      json: { error: 'invalid_schedule', message: expect.stringContaining('Temporal refused the schedule') },
    });
    expect(await api(tokens.alice, 'POST', '/api/schedules', { ...base, tool: 'no_such_tool' })).toMatchObject({ status: 404 });
    // Refused or invalid, nothing was kept.
    expect((await api(tokens.alice, 'GET', '/api/schedules')).json).toEqual({ schedules: [] });
  });

  test('alice creates a schedule; only she sees or deletes it', async () => {
    // Twice a year: the suite triggers its runs itself, and no run of the schedule's own may land in the middle of a test
    // (an hourly interval fires at every full hour, whenever the suite happens to be running then).
    const created = await api(tokens.alice, 'POST', '/api/schedules', { tool: 'triage_pull_request', arguments: pr, cron: '0 0 1 1,7 *', note: 'half-yearly triage' });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: expect.stringMatching(/^sched-[\w-]+$/),
      tool: 'triage_pull_request',
      arguments: pr,
      cron: '0 0 1 1,7 *',
      note: 'half-yearly triage',
      createdAt: expect.any(String),
      endsAt: expect.any(String),
    });
    scheduleId = created.json.id;
    prefix = `triage_pull_request-${scheduleId}`;
    expect(created.headers.get('location')).toBe(`/api/schedules/${scheduleId}`);
    // The identity lasts about a year; the schedule ends a day before it expires.
    expect(Date.parse(created.json.endsAt) - Date.now()).toBeGreaterThan(360 * 24 * 3600 * 1000);

    const own = await api(tokens.alice, 'GET', '/api/schedules');
    expect(own.json.schedules.map((s: { id: string }) => s.id)).toEqual([scheduleId]);
    const one = await api(tokens.alice, 'GET', `/api/schedules/${scheduleId}`);
    expect(one.json).toMatchObject({ id: scheduleId, paused: false, recentRuns: [] });
    expect(one.json.nextRunTimes.length).toBeGreaterThan(0);
    expect(one.json.nextRunTimes.map((time: string) => time.slice(4, 19))).toEqual(expect.arrayContaining([expect.stringMatching(/^-0[17]-01T00:00:00$/)]));

    // bob: not in his list, not by id, cannot delete it, and cannot list everyone's (no role).
    expect((await api(tokens.bob, 'GET', '/api/schedules')).json).toEqual({ schedules: [] });
    expect(await api(tokens.bob, 'GET', `/api/schedules/${scheduleId}`)).toMatchObject({ status: 404, json: { error: 'not_found' } });
    expect(await api(tokens.bob, 'DELETE', `/api/schedules/${scheduleId}`)).toMatchObject({
      status: 404,
      json: { error: 'not_found', message: `No schedule "${scheduleId}" of yours is known here.` },
    });
    expect(await api(tokens.bob, 'GET', '/api/schedules?all=true')).toMatchObject({ status: 403 });
    // An admin sees everyone's (and whose each is), but reads or deletes none of them.
    const carol = await carolToken();
    expect((await api(carol, 'GET', '/api/schedules?all=true')).json.schedules).toEqual([expect.objectContaining({ id: scheduleId, owner: { tenant: 'acme', subject: 'alice' } })]);
    expect((await api(carol, 'GET', `/api/schedules/${scheduleId}`)).status).toBe(404);
    expect((await api(carol, 'DELETE', `/api/schedules/${scheduleId}`)).status).toBe(404);
    expect((await api(tokens.alice, 'GET', `/api/schedules/${scheduleId}`)).status).toBe(200);
    await expect(gs.stack.client.schedule.getHandle(scheduleId).describe()).resolves.toBeDefined();

    // In Temporal: Baton's task queue, the tool as workflow type, the user's tags, the identity as a header — no token of any app.
    const { action, raw } = await gs.stack.client.schedule.getHandle(scheduleId).describe();
    expect(action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'triage_pull_request',
      taskQueue: gs.stack.settings.temporal.taskQueue,
      workflowId: prefix,
      args: [pr, { consentTimeoutMs: 86_400_000 }],
    });
    const tags = action.typedSearchAttributes as TypedSearchAttributes;
    expect(tags.get(BatonUser)).toBe('alice');
    expect(tags.get(BatonTool)).toBe('triage_pull_request');
    expect(Object.keys(raw.schedule?.action?.startWorkflow?.header?.fields ?? {})).toEqual([IDENTITY_HEADER]);

    const [audited] = await gs.stack.stores.audit.query({ kind: 'schedule.created', subject: 'alice' });
    expect(audited).toMatchObject({ outcome: 'ok', tool: 'triage_pull_request', actor: { subject: 'alice', authMethod: 'oauth' }, detail: { scheduleId, cron: '0 0 1 1,7 *' } });
  });

  test('the scheduled run acts as alice, with her own GitHub and Slack connections, and is on her runs list', async () => {
    const before = await lastLogSeq(gs.stack.sandbox.url);
    firstRun = await triggerAndFindNewRun([]);
    expect(firstRun).toMatch(new RegExp(`^${prefix}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
    const done = await stateOf(firstRun, 'completed');
    expect(
      done.steps.map((step: { app: string; action: string; credential: { owner: string; externalAccount: string } }) => [
        step.app,
        step.action,
        step.credential.owner,
        step.credential.externalAccount,
      ]),
    ).toEqual([
      ['github', 'pulls.get', 'user', 'alice'],
      ['slack', 'chat.postMessage', 'user', 'alice'],
      ['slack', 'chat.getPermalink', 'user', 'alice'],
      ['jira', 'issues.create', 'service_account', 'svc-baton@acme.example'],
      ['github', 'issues.createComment', 'user', 'alice'],
    ]);
    // What the apps saw: alice's tokens for GitHub and Slack, the service account for Jira only.
    const seen = (await requestsSince(before)).filter((request) => request.app !== 'jira');
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const request of seen) expect([request.app, request.path, request.credential.user, request.credential.valid]).toEqual([request.app, request.path, 'alice', true]);
    // The audit trail names alice, and the schedule as the "client" that started it.
    const [started] = await gs.stack.stores.audit.query({ kind: 'tool_call.started', rootRunId: firstRun });
    expect(started).toMatchObject({ actor: { subject: 'alice', authMethod: 'oauth' }, client: `schedule:${scheduleId}`, tool: 'triage_pull_request', runPath: [firstRun] });
    expect((await api(tokens.alice, 'GET', `/api/schedules/${scheduleId}`)).json.recentRuns).toEqual([{ runId: firstRun, startedAt: expect.any(String) }]);
    expect((await api(tokens.bob, 'GET', `/api/runs/${firstRun}`)).status).toBe(404);
  }, 60_000);

  test('after alice revokes Slack, the next scheduled run pauses for her consent (Runs page + webhook) and never uses another credential', async () => {
    const revoked = await api(tokens.alice, 'DELETE', '/api/connections/slack');
    expect(revoked).toMatchObject({ status: 200, json: { app: 'slack', revoked: true } });
    const before = await lastLogSeq(gs.stack.sandbox.url);
    const noticesBefore = notices.length;

    const second = await triggerAndFindNewRun([firstRun]);
    const waiting = await stateOf(second, 'waiting');
    expect(waiting.waitingFor).toEqual([{ app: 'slack', appName: 'Slack', connectUrl: expect.stringMatching(new RegExp(`^${gs.url}/connect/[\\w-]+$`)) }]);

    // The webhook heard of it: who, what, which run, and the link — nothing secret.
    const notice = await eventually(async () => notices.slice(noticesBefore).find((n) => n.runId === second), 10_000, 'the webhook notification');
    expect(notice).toEqual({
      path: '/baton-consent',
      contentType: 'application/json',
      event: 'consent.required',
      user: 'alice',
      tenant: 'acme',
      tool: 'triage_pull_request',
      runId: second,
      app: 'slack',
      connectUrl: waiting.waitingFor[0].connectUrl,
      scheduleId,
    });

    // Slack was never called (no one else's token, no service account); GitHub only with alice's.
    const calls = await requestsSince(before);
    expect(calls.filter((request) => request.app === 'slack')).toEqual([]);
    expect(calls.filter((request) => request.app === 'github').map((request) => request.credential.user)).toEqual(['alice']);
    expect(await gs.stack.stores.audit.query({ kind: 'consent.requested', rootRunId: second })).toEqual([
      expect.objectContaining({ app: 'slack', outcome: 'pending', actor: expect.objectContaining({ subject: 'alice' }) }),
    ]);

    // alice follows the link; the paused run resumes by itself and finishes with her new Slack connection.
    const consented = await gs.consentInBrowser(waiting.waitingFor[0].connectUrl, 'alice');
    expect(consented.status).toBe(200);
    const finished = await stateOf(second, 'completed');
    // Slack: first the step that found no connection (and presented nothing), then alice's new one.
    expect(
      finished.steps
        .filter((step: { app: string }) => step.app === 'slack')
        .map((step: { outcome: string; credential: { owner: string; externalAccount: string | null } }) => [step.outcome, step.credential.owner, step.credential.externalAccount]),
    ).toEqual([
      ['connection_required', 'none', null],
      ['ok', 'user', 'alice'],
      ['ok', 'user', 'alice'],
    ]);
  }, 60_000);

  test("the schedule's identity cannot be replayed onto a run the schedule did not start", async () => {
    const { raw } = await gs.stack.client.schedule.getHandle(scheduleId).describe();
    const stolen = defaultPayloadConverter.fromPayload<string>(raw.schedule!.action!.startWorkflow!.header!.fields![IDENTITY_HEADER]!);
    const before = await lastLogSeq(gs.stack.sandbox.url);
    const taskQueue = gs.stack.settings.temporal.taskQueue;
    const attempts: [string, string, RegExp][] = [
      // A look-alike id, even with the search attribute Temporal sets on scheduled runs forged too.
      ['look-alike id', `${prefix}-2031-01-01T00:00:00Z`, /Temporal does not record run .* as started by schedule/],
      // The id of the run the schedule really started (closed now, so Temporal lets the id be reused).
      // (On a loaded machine the check may run out of time before Temporal answers: refused all the same.)
      ['reused id of a real scheduled run', firstRun, /Temporal does not record run .* as started by schedule|identity could not be verified/],
      // Any other id.
      ['unrelated id', `triage_pull_request-${scheduleId}x`, /not one of them/],
    ];
    for (const [what, workflowId, expected] of attempts) {
      const audited = (await gs.stack.stores.audit.forRun(workflowId)).length;
      const handle = await actingAs(stolen, () =>
        gs.stack.client.workflow.start('triage_pull_request', {
          taskQueue,
          workflowId,
          args: [pr, {}],
          typedSearchAttributes: [
            { key: BatonUser, value: 'alice' },
            { key: BatonTool, value: 'triage_pull_request' },
            { key: TemporalScheduledById, value: scheduleId },
          ],
        }),
      );
      await expect(handle.result()).rejects.toThrow();
      const status = await handle.query<{ state: string; error: { type: string; message: string } }>('baton.status');
      expect([what, status.state, status.error.type]).toEqual([what, 'failed', 'IdentityRejected']);
      expect([what, status.error.message]).toEqual([what, expect.stringMatching(expected)]);
      // Refused before anything was recorded in alice's name.
      expect([what, (await gs.stack.stores.audit.forRun(workflowId)).length]).toEqual([what, audited]);
    }
    // Nothing reached any app.
    expect(await requestsSince(before)).toEqual([]);
    // And a run the schedule really starts still works.
    const third = await triggerAndFindNewRun([firstRun, ...(await scheduledRuns()).map((run) => run.runId)]);
    await stateOf(third, 'completed');
  }, 90_000);

  test('disabling alice, or deleting the schedule, withdraws its identity — even from a run under way', async () => {
    const schedule = gs.stack.client.schedule.getHandle(scheduleId);
    const seen = async () => (await schedule.describe()).info.recentActions.map((result) => result.action.workflow.workflowId);
    const failureOf = async (runId: string) => {
      const handle = gs.stack.client.workflow.getHandle(runId);
      await expect(handle.result()).rejects.toThrow();
      return (await handle.query<{ state: string; error: { type: string; message: string } }>('baton.status')).error;
    };

    // alice disabled: the next run is refused before it does anything in her name.
    const disabledUsers = new DisabledUsers(gs.stack.stores.db);
    await disabledUsers.disable({ tenant: 'acme', subject: 'alice' }, 'test');
    try {
      const before = await seen();
      await trigger();
      const refusedRun = await eventually(async () => (await seen()).find((id) => !before.includes(id)), 30_000, 'the schedule to start a run');
      expect(await failureOf(refusedRun)).toEqual({ type: 'IdentityRejected', message: expect.stringContaining('(alice) has been disabled') });
      expect(await gs.stack.stores.audit.query({ rootRunId: refusedRun })).toEqual([]);
    } finally {
      await disabledUsers.enable({ tenant: 'acme', subject: 'alice' });
    }

    // A run waiting for consent, then the schedule deleted: when alice connects Slack, it may not go on as her.
    await api(tokens.alice, 'DELETE', '/api/connections/slack');
    const waitingRun = await triggerAndFindNewRun((await scheduledRuns()).map((run) => run.runId));
    const waiting = await stateOf(waitingRun, 'waiting');
    const deleted = await api(tokens.alice, 'DELETE', `/api/schedules/${scheduleId}`);
    expect(deleted).toMatchObject({ status: 200, json: { id: scheduleId, deleted: true } });
    expect((await gs.consentInBrowser(waiting.waitingFor[0].connectUrl, 'alice')).status).toBe(200);
    expect(await failureOf(waitingRun)).toEqual({ type: 'IdentityRejected', message: expect.stringContaining('no longer exists; deleting a schedule withdraws its identity') });
    expect((await gs.stack.stores.audit.forRun(waitingRun)).filter((step) => step.app === 'slack' && step.outcome === 'ok')).toEqual([]);
  }, 90_000);

  test('the deleted schedule is gone from the API and from Temporal; its deletion is audited', async () => {
    expect((await api(tokens.alice, 'GET', '/api/schedules')).json).toEqual({ schedules: [] });
    expect(await api(tokens.alice, 'GET', `/api/schedules/${scheduleId}`)).toMatchObject({ status: 404 });
    await expect(gs.stack.client.schedule.getHandle(scheduleId).describe()).rejects.toThrow(ScheduleNotFoundError);
    expect(await api(tokens.alice, 'DELETE', `/api/schedules/${scheduleId}`)).toMatchObject({ status: 404 });
    expect((await gs.stack.stores.audit.query({ kind: 'schedule.deleted', subject: 'alice' }))[0]).toMatchObject({ outcome: 'ok', detail: { scheduleId, targetSubject: 'alice' } });
  });

  test('no secret reached any workflow history (schedule runs included)', async () => {
    await expectNoSecretsInHistories(gs.stack);
  });
});
