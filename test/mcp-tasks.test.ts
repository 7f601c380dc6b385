/**
 * Issue 16: Baton's runs as MCP tasks, with real clients of both eras — the official TypeScript client with
 * `@modelcontextprotocol/ext-tasks`' session for 2026-07-28, the Python `mcp` SDK sending `params.task` for
 * 2025-11-25 — against the whole stack: consent mid-task in the browser, cancellation through Temporal, other
 * users' tasks unknown, tasks surviving a gateway restart.
 */
import { createTaskSessionFromClient, resultFromTaskOutcome, toolDeclaration, type TaskExecutionEvent } from '@modelcontextprotocol/ext-tasks/client';
import { CallToolResultV2Schema } from '@modelcontextprotocol/ext-tasks/core/v2';
import type { Client } from '@modelcontextprotocol/client';
import { gatewayStackForSuite, openToEveryone, type DemoUserName, type GatewayStack } from './support/gateway-stack.ts';
import { notesUpstreamYaml, upstreamEnv } from './support/upstreams.ts';
import { PythonTasksClient } from './support/python-mcp-client.ts';
import { rawDispatchFor } from './support/raw-mcp.ts';
import { until } from './support/until.ts';

/** A 2026 tools/call waits this long before handing the run over as a task; the held Jira calls below outlast it. */
const ANSWER_WITHIN_MS = 2_000;

let gs: GatewayStack;
/** alice's first task, which others then try to read. */
let alicesTask = '';
gatewayStackForSuite((started) => (gs = started), {
  env: { BATON_TASK_POLL_INTERVAL_MS: '100', BATON_TASK_ANSWER_WITHIN_MS: String(ANSWER_WITHIN_MS) },
  // The sandbox notes server too, whose delete_note asks the user to confirm: a question mid-task.
  config: (sandbox) => ({ yaml: `${openToEveryone}mcpServers:\n${notesUpstreamYaml(sandbox)}`, env: upstreamEnv(sandbox) }),
});

const modern = { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } } as const;
/** The 2026-07-28 request envelope of a client that takes tasks (and URL elicitations). */
const optIn = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'baton-test-client', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} }, elicitation: { url: {} } },
};

/** A form question as the session hands it to the application. */
type FormQuestion = { message: string; requestedSchema: Record<string, unknown> };

/**
 * A 2026-07-28 task session of `user`'s: URL elicitations are consented to in the browser (`onConsent`), form
 * questions answered by `onQuestion` (declined unless given).
 */
async function taskSession(
  user: DemoUserName,
  onConsent: (url: string) => Promise<void> = async (url) => void (await gs.consentInBrowser(url, user)),
  onQuestion: (question: FormQuestion) => { action: 'accept' | 'decline'; content?: Record<string, boolean> } = () => ({ action: 'decline' }),
) {
  const token = await gs.tokenFor(user);
  const client: Client = await gs.connect(token, modern);
  const declarations = new Map((await client.listTools()).tools.map((tool) => [tool.name, toolDeclaration(JSON.parse(JSON.stringify(tool)) as never)]));
  const session = createTaskSessionFromClient(client, {
    endpointId: `baton-${user}`,
    rawDispatch: rawDispatchFor(gs.mcpUrl, token),
    v2RequestFraming: { protocolVersion: '2026-07-28', clientInfo: { name: 'baton-test-client', version: '1.0.0' }, clientCapabilities: { elicitation: { url: {}, form: {} } } },
    // The tools' declarations from Baton's own list. (The helper would list them itself, but under jest its JSON
    // check fails on objects parsed in Node's realm rather than the test's: a test-environment artefact.)
    tools: { currentTool: (name) => declarations.get(name) },
    onInputRequest: async (request) => {
      const params = request.params as { mode?: string; url?: string } & FormQuestion;
      if (request.kind !== 'elicitation') throw new Error(`unexpected input request ${JSON.stringify(request)}`);
      if (params.mode !== 'url') return onQuestion(params) as never;
      await onConsent(params.url!);
      return { action: 'accept' } as never;
    },
  });
  return { token, client, session, raw: rawDispatchFor(gs.mcpUrl, token) };
}

/** How many comments the sandbox's GitHub has been asked to post on acme/widgets#1 so far. */
async function commentsOnPullRequest(): Promise<number> {
  const { requests } = await gs.stack.sandboxGet<{ requests: { method: string; path: string }[] }>('/_sandbox/requests?app=github');
  return requests.filter((request) => request.method === 'POST' && request.path === '/repos/acme/widgets/issues/1/comments').length;
}

/** Holds the sandbox Jira's next issue creation for `ms`, then waits for a run to reach it (mid-run). */
const holdJira = (ms: number) => gs.stack.sandboxPost('/_sandbox/delay', { app: 'jira', pathPrefix: '/rest/api/3/issue', ms, times: 1 });
const jiraCallHeld = () => until('the held Jira call', async () => ((await gs.stack.sandboxGet<{ pending: unknown[] }>('/_sandbox/delay')).pending.length === 0 ? true : undefined));

/** The run behind a cancelled task: cancelled in Temporal, who cancelled in the audit trail, and no app call after the one in flight. */
async function expectCancelledWithNoLaterCall(taskId: string, user: DemoUserName, commentsBefore: number): Promise<void> {
  expect((await gs.stack.client.workflow.getHandle(taskId).describe()).status.name).toBe('CANCELLED');
  const [cancelled] = await gs.stack.stores.audit.query({ rootRunId: taskId, kind: 'tool_call.cancel_requested' });
  expect(cancelled).toMatchObject({ outcome: 'requested', tool: 'triage_pull_request', actor: { subject: user }, message: expect.stringContaining('tasks/cancel') });
  // The held call ends (its activity cancelled or answered); nothing comes after it: no comment on the pull request.
  await until('the Jira call to end', async () => ((await gs.stack.stores.audit.query({ rootRunId: taskId, kind: 'app_call', app: 'jira' })).length > 0 ? true : undefined), 30_000);
  expect(await commentsOnPullRequest()).toBe(commentsBefore);
  expect((await gs.stack.stores.audit.query({ rootRunId: taskId, kind: 'app_call' })).map((record) => record.action)).not.toContain('issues.createComment');
}

const statusesOf = (events: TaskExecutionEvent<unknown>[]) => events.flatMap((event) => (event.type === 'task' ? [event.task.status] : [])).filter((status, index, all) => status !== all[index - 1]);

test('2026-07-28: triage as a task with nothing connected — input_required with Baton’s consent links, consent in the browser, working, completed with the result', async () => {
  const consented: string[] = [];
  const { session, client, raw } = await taskSession('alice', async (url) => {
    consented.push(url);
    await gs.consentInBrowser(url, 'alice');
  });

  // server/discover advertised the extension (the session works in its 2026 generation because of it).
  expect(client.getServerCapabilities()?.extensions).toEqual({ 'io.modelcontextprotocol/tasks': {} });

  // Once consented, the run works a while (its Jira call is held a moment): the client sees it `working` again.
  await holdJira(1_000);
  const execution = await session.callTool('triage_pull_request', { repo: 'acme/widgets', number: 1 });
  expect(execution.kind).toBe('task');
  const taskId = execution.kind === 'task' ? execution.handle.taskId : '';
  expect(taskId).toMatch(/^triage_pull_request-/);
  alicesTask = taskId;

  // The task exists before the answer came back: tasks/get reads it at once.
  const first = await raw({ method: 'tasks/get', params: { taskId, _meta: optIn } });
  expect(first).toMatchObject({ kind: 'result', result: { resultType: 'complete', taskId, ttlMs: 86_400_000, pollIntervalMs: 100 } });

  const events: TaskExecutionEvent<unknown>[] = [];
  const { outcome } = await execution.settle({ onEvent: (event) => void events.push(event) });
  expect(outcome.status).toBe('completed');
  const result = CallToolResultV2Schema.parse((outcome as { result: unknown }).result) as { structuredContent?: Record<string, unknown>; isError?: boolean };
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ title: expect.any(String), jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  // Both apps' links were Baton's own /connect pages, each followed once.
  expect(consented.map((url) => new URL(url).pathname)).toEqual([expect.stringMatching(/^\/connect\/[\w-]+$/), expect.stringMatching(/^\/connect\/[\w-]+$/)]);
  expect(statusesOf(events)).toEqual(['input_required', 'working', 'completed']);
  await session.close();
  await client.close();
}, 120_000);

test('2026-07-28: a run done within BATON_TASK_ANSWER_WITHIN_MS is answered as it is — no task, no extra round trip', async () => {
  const { session, client } = await taskSession('alice');
  const execution = await session.callTool('probe_identity', {});
  expect(execution.kind).toBe('immediate');
  const { outcome } = await execution.settle();
  expect(outcome).toMatchObject({ status: 'completed', result: { structuredContent: { identity: { subject: 'alice' }, githubLogin: 'alice' } } });
  await session.close();
  await client.close();
}, 60_000);

test('2026-07-28: an upstream’s question mid-task is a form in inputRequests; tasks/update carries the answer to the workflow that asked', async () => {
  const asked: FormQuestion[] = [];
  const { session, client } = await taskSession('alice', undefined, (question) => {
    asked.push(question);
    return { action: 'accept', content: { confirm: true } };
  });
  // Creating the note first asks alice to connect the notes server (consent in the browser), then finishes.
  const created = resultFromTaskOutcome((await (await session.callTool('notes__create_note', { title: 'Old plan', body: 'to be deleted' })).settle()).outcome) as unknown as {
    structuredContent: { id: string };
  };
  const { id } = created.structuredContent;
  const execution = await session.callTool('notes__delete_note', { id });
  expect(execution.kind).toBe('task');
  const events: TaskExecutionEvent<unknown>[] = [];
  const { outcome } = await execution.settle({ onEvent: (event) => void events.push(event) });
  expect(outcome).toMatchObject({ status: 'completed', result: { structuredContent: { id, deleted: true } } });
  expect(asked).toEqual([expect.objectContaining({ message: 'notes asks: Delete the note "Old plan" for good?' })]);
  // What tasks/get showed while the question was open: one form, under a key naming the wait and the upstream's own key.
  const shown = events.flatMap((event) => (event.type === 'task' && 'inputRequests' in event.task.raw ? [event.task.raw.inputRequests as Record<string, unknown>] : []));
  expect(shown.length).toBeGreaterThan(0);
  expect(Object.keys(shown[0]!)).toEqual([expect.stringMatching(/^question:.+:confirm$/)]);
  await session.close();
  await client.close();
}, 120_000);

test('2026-07-28: a run terminated in Temporal is a failed task with the error; one past its time to live is an expired task', async () => {
  const { session, client, raw } = await taskSession('alice');
  await holdJira(ANSWER_WITHIN_MS + 1_000);
  const execution = await session.callTool('triage_pull_request', { repo: 'acme/widgets', number: 1 });
  if (execution.kind !== 'task') throw new Error('expected a task');
  const taskId = execution.handle.taskId;
  await execution.detach();
  await gs.stack.client.workflow.getHandle(taskId).terminate('operator stopped it');
  expect(await raw({ method: 'tasks/get', params: { taskId, _meta: optIn } })).toMatchObject({
    kind: 'result',
    result: { status: 'failed', error: { code: -32603, message: 'The run was terminated in Temporal before it finished.' } },
  });
  // Its registry row aged past BATON_TASK_TTL_SECONDS (one day here).
  await gs.stack.stores.db.run('UPDATE gateway_runs SET created_at = ? WHERE workflow_id = ?', Date.now() - 86_400_001, taskId);
  expect(await raw({ method: 'tasks/get', params: { taskId, _meta: optIn } })).toMatchObject({ kind: 'error', error: { code: -32602, message: expect.stringContaining('Task has expired') } });
  await session.close();
  await client.close();
}, 60_000);

test('2026-07-28: a task cancelled mid-run is cancelled — in Temporal too, with who cancelled in the audit trail, and no app call after', async () => {
  const { session, client, raw } = await taskSession('alice');
  // alice has connected both apps by now (the test above): the run goes straight on, and the Jira call is held.
  await holdJira(ANSWER_WITHIN_MS + 2_000);
  const commentsBefore = await commentsOnPullRequest();
  const execution = await session.callTool('triage_pull_request', { repo: 'acme/widgets', number: 1 });
  if (execution.kind !== 'task') throw new Error('expected a task');
  const taskId = execution.handle.taskId;
  // Mid-run: the Jira call has reached the sandbox and is being held.
  await jiraCallHeld();
  expect(await raw({ method: 'tasks/get', params: { taskId, _meta: optIn } })).toMatchObject({ kind: 'result', result: { status: 'working' } });

  await execution.cancel();

  expect(await raw({ method: 'tasks/get', params: { taskId, _meta: optIn } })).toMatchObject({ kind: 'result', result: { status: 'cancelled' } });
  await expectCancelledWithNoLaterCall(taskId, 'alice', commentsBefore);
  await session.close();
  await client.close();
}, 120_000);

test('2026-07-28: bob’s tasks/get, update and cancel on alice’s task are “task not found”, as for a task that never existed; alice’s task goes on', async () => {
  const alice = await taskSession('alice');
  await holdJira(ANSWER_WITHIN_MS + 1_000); // alice has connected everything: without the hold the run would be done before it could be a task
  const execution = await alice.session.callTool('triage_pull_request', { repo: 'acme/widgets', number: 1 });
  if (execution.kind !== 'task') throw new Error('expected a task');
  const taskId = execution.handle.taskId;
  const bob = rawDispatchFor(gs.mcpUrl, await gs.tokenFor('bob'));
  const notFound = { kind: 'error', error: { code: -32602, message: expect.stringContaining('Task not found') } };
  expect(await bob({ method: 'tasks/get', params: { taskId, _meta: optIn } })).toMatchObject(notFound);
  expect(await bob({ method: 'tasks/get', params: { taskId: 'triage_pull_request-no-such-run', _meta: optIn } })).toMatchObject(notFound);
  expect(await bob({ method: 'tasks/update', params: { taskId, inputResponses: {}, _meta: optIn } })).toMatchObject(notFound);
  expect(await bob({ method: 'tasks/cancel', params: { taskId, _meta: optIn } })).toMatchObject(notFound);
  expect(await gs.stack.stores.audit.query({ rootRunId: taskId, kind: 'tool_call.cancel_requested' })).toEqual([]);
  const { outcome } = await execution.settle();
  expect(outcome).toMatchObject({ status: 'completed', result: { structuredContent: { jiraKey: expect.stringMatching(/^OPS-\d+$/) } } });
  await alice.session.close();
  await alice.client.close();
}, 120_000);

test('2026-07-28: a consent link declined in tasks/update ends that run with the refusal, recorded; a dismissed one stays open, and the user’s other run keeps its own link', async () => {
  // Raw requests only: a task session would consent to each link it sees. carol has connected nothing.
  const raw = rawDispatchFor(gs.mcpUrl, await gs.tokenFor('carol'));
  type Waiting = { status: string; inputRequests?: Record<string, { params: { url?: string; message: string } }>; result?: unknown };
  const taskNow = async (taskId: string) => {
    const answer = await raw({ method: 'tasks/get', params: { taskId, _meta: optIn } });
    if (answer.kind !== 'result') throw new Error(JSON.stringify(answer));
    return answer.result as unknown as Waiting;
  };
  /** The task's key for its GitHub link, once it asks for one. */
  const githubLinkOf = async (taskId: string) => {
    let last: Waiting | undefined;
    const waiting = await until(
      () => `${taskId} to ask for GitHub (last seen: ${JSON.stringify(last)})`,
      async () => {
        last = await taskNow(taskId);
        return last.status === 'input_required' && last.inputRequests ? last.inputRequests : undefined;
      },
    );
    const key = Object.keys(waiting).find((candidate) => waiting[candidate]!.params.message.includes('Connect GitHub'));
    if (!key) throw new Error(`no GitHub link in ${JSON.stringify(waiting)}`);
    return { key, consentId: key.replace(/^connect:/, '') };
  };
  const update = (taskId: string, inputResponses: Record<string, { action: string }>) => raw({ method: 'tasks/update', params: { taskId, inputResponses, _meta: optIn } });

  const startTask = async () => {
    const answer = await raw({ method: 'tools/call', params: { name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 }, _meta: optIn } });
    if (answer.kind !== 'result' || (answer.result as { resultType?: string }).resultType !== 'task') throw new Error(`expected a task: ${JSON.stringify(answer)}`);
    return (answer.result as { taskId: string }).taskId;
  };
  const declinedId = await startTask();
  const otherId = await startTask();
  const declinedLink = await githubLinkOf(declinedId);
  const otherLink = await githubLinkOf(otherId);

  // Dismissing a link (cancel) changes nothing: the run still waits on it.
  expect(await update(otherId, { [otherLink.key]: { action: 'cancel' } })).toMatchObject({ kind: 'result' });
  expect((await gs.stack.stores.consents.get(otherLink.consentId))?.status).toBe('pending');

  // Declining it is this run's consent declined: the task completes with carol's refusal as a tool error.
  expect(await update(declinedId, { [declinedLink.key]: { action: 'decline' } })).toMatchObject({ kind: 'result' });
  const ended = await until('the declined task to complete', async () => {
    const task = await taskNow(declinedId);
    return task.status === 'completed' ? task : undefined;
  });
  expect(ended.result).toMatchObject({ isError: true, structuredContent: { status: 'failed', error: expect.stringContaining('declined to connect GitHub') } });
  expect((await gs.stack.stores.consents.get(declinedLink.consentId))?.status).toBe('denied');
  const [record] = await gs.stack.stores.audit.query({ rootRunId: declinedId, kind: 'consent.denied' });
  expect(record).toMatchObject({ outcome: 'denied', app: 'github', actor: { subject: 'carol' }, message: expect.stringContaining('tasks/update') });
  expect((await gs.stack.stores.audit.query({ rootRunId: declinedId, kind: 'app_call' })).filter((call) => call.outcome === 'ok')).toEqual([]);

  // carol's other run still waits, its own link still open; cancelled here to end it.
  expect(await taskNow(otherId)).toMatchObject({ status: 'input_required' });
  expect((await gs.stack.stores.consents.get(otherLink.consentId))?.status).toBe('pending');
  expect(await raw({ method: 'tasks/cancel', params: { taskId: otherId, _meta: optIn } })).toMatchObject({ kind: 'result' });
}, 120_000);

test('2026-07-28: the task methods need the client’s opt-in (-32021) and an Mcp-Name header naming the task', async () => {
  const alice = await taskSession('alice');
  await holdJira(ANSWER_WITHIN_MS + 1_000);
  const execution = await alice.session.callTool('triage_pull_request', { repo: 'acme/widgets', number: 1 });
  if (execution.kind !== 'task') throw new Error('expected a task');
  const taskId = execution.handle.taskId;
  const { 'io.modelcontextprotocol/clientCapabilities': _taskCapable, ...withoutOptIn } = optIn;
  expect(await alice.raw({ method: 'tasks/get', params: { taskId, _meta: { ...withoutOptIn, 'io.modelcontextprotocol/clientCapabilities': {} } } })).toMatchObject({
    kind: 'error',
    error: { code: -32021, data: { requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } } } },
  });
  const misrouted = rawDispatchFor(gs.mcpUrl, alice.token, { 'Mcp-Name': 'another-task' });
  expect(await misrouted({ method: 'tasks/get', params: { taskId, _meta: optIn } })).toMatchObject({ kind: 'error', error: { message: expect.stringContaining('Mcp-Name') } });
  // Without the opt-in, tools/call is Baton's usual answer, never a task.
  const plain = await alice.raw({ method: 'tools/call', params: { name: 'probe_identity', arguments: {}, _meta: { ...withoutOptIn, 'io.modelcontextprotocol/clientCapabilities': {} } } });
  expect(plain).toMatchObject({ kind: 'result', result: { resultType: 'complete' } });
  expect((plain as { result: { taskId?: string } }).result.taskId).toBeUndefined();
  await execution.settle();
  await alice.session.close();
  await alice.client.close();
}, 120_000);

test('a gateway restart between creating the task and reading its result: the task is still there, with its result', async () => {
  const alice = await taskSession('alice');
  await holdJira(ANSWER_WITHIN_MS + 1_000);
  const execution = await alice.session.callTool('triage_pull_request', { repo: 'acme/widgets', number: 1 });
  if (execution.kind !== 'task') throw new Error('expected a task');
  const taskId = execution.handle.taskId;
  await execution.detach();
  await gs.restartGateway();
  const reading = await taskSession('alice');
  const task = await until('the task to complete', async () => {
    const answer = await reading.raw({ method: 'tasks/get', params: { taskId, _meta: optIn } });
    return answer.kind === 'result' && (answer.result as { status: string }).status === 'completed' ? (answer.result as { result: { structuredContent: unknown } }) : undefined;
  });
  expect(task.result.structuredContent).toMatchObject({ jiraKey: expect.stringMatching(/^OPS-\d+$/) });
  await alice.client.close().catch(() => undefined);
  await reading.session.close();
  await reading.client.close();
}, 120_000);

test('2025-11-25 (Python mcp SDK, params.task): input_required with the links, consent in the browser, working, completed; tasks/result and tasks/list; a second task cancelled; alice’s task unknown to bob', async () => {
  const py = new PythonTasksClient(gs.mcpUrl, await gs.tokenFor('bob'));
  try {
    const { protocolVersion, capabilities } = await py.ready;
    expect(protocolVersion).toBe('2025-11-25');
    expect(capabilities).toMatchObject({ tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } });
    const { ok: listed } = await py.send<{ tools: { name: string; execution?: unknown }[] }>({ op: 'tools' });
    expect(listed!.tools.find((tool) => tool.name === 'triage_pull_request')?.execution).toEqual({ taskSupport: 'optional' });

    await holdJira(1_000);
    const { ok: created } = await py.send<{ task: { taskId: string; status: string; ttl: number; pollInterval: number } }>({
      op: 'call',
      name: 'triage_pull_request',
      arguments: { repo: 'acme/widgets', number: 1 },
    });
    expect(created!.task).toMatchObject({ status: 'working', ttl: 86_400_000, pollInterval: 100 });
    const { taskId } = created!.task;
    type Task = { status: string; statusMessage?: string };
    const getTask = async () => (await py.send<Task>({ op: 'get', taskId })).ok!;
    // 2025-era tasks carry no input requests: the status message names Baton's consent links.
    const waiting = await until('input_required', async () => ((await getTask()).status === 'input_required' ? getTask() : undefined));
    const links = waiting.statusMessage!.match(/http:\/\/\S+\/connect\/[\w-]+/g) ?? [];
    expect(links).toHaveLength(2);
    for (const link of links) expect((await gs.consentInBrowser(link, 'bob')).status).toBe(200);
    const seen = new Set<string>();
    await until('completed', async () => {
      const { status } = await getTask();
      seen.add(status);
      return status === 'completed' ? status : undefined;
    });
    expect(seen.has('working')).toBe(true);
    const { ok: result } = await py.send({ op: 'result', taskId });
    expect(result).toMatchObject({ structuredContent: { jiraKey: expect.stringMatching(/^OPS-\d+$/) }, _meta: { 'io.modelcontextprotocol/related-task': { taskId } } });
    // tasks/result waits for a task still working, telling the client each status on its stream meanwhile.
    await holdJira(1_500);
    const { ok: slow } = await py.send<{ task: { taskId: string } }>({ op: 'call', name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
    expect(await py.send({ op: 'result', taskId: slow!.task.taskId })).toMatchObject({ ok: { structuredContent: { jiraKey: expect.stringMatching(/^OPS-\d+$/) } } });
    const { ok: notifications } = await py.send<{ taskId: string; status: string }[]>({ op: 'notifications' });
    expect(notifications!.filter((notification) => notification.taskId === slow!.task.taskId).map((notification) => notification.status)).toEqual(['working', 'completed']);
    const { ok: page } = await py.send<{ tasks: { taskId: string; status: string }[] }>({ op: 'list' });
    expect(page!.tasks).toContainEqual(expect.objectContaining({ taskId, status: 'completed' }));
    expect(page!.tasks.map((task) => task.taskId)).not.toContain(alicesTask);

    // A second task, cancelled mid-run.
    await holdJira(3_000);
    const commentsBefore = await commentsOnPullRequest();
    const { ok: second } = await py.send<{ task: { taskId: string } }>({ op: 'call', name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
    await jiraCallHeld();
    const { ok: cancelled } = await py.send({ op: 'cancel', taskId: second!.task.taskId });
    expect(cancelled).toMatchObject({ taskId: second!.task.taskId, status: 'cancelled' });
    await expectCancelledWithNoLaterCall(second!.task.taskId, 'bob', commentsBefore);
    expect(await py.send({ op: 'cancel', taskId: second!.task.taskId })).toMatchObject({ error: { code: -32602, message: expect.stringContaining('already ended') } });

    // A tool error is a completed task with an isError result (a pull request that does not exist).
    const { ok: missing } = await py.send<{ task: { taskId: string } }>({ op: 'call', name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 99 } });
    const { ok: failedRun } = await py.send({ op: 'result', taskId: missing!.task.taskId });
    expect(failedRun).toMatchObject({ isError: true, structuredContent: { status: 'failed', error: expect.stringContaining('404') } });
    expect((await py.send<{ status: string }>({ op: 'get', taskId: missing!.task.taskId })).ok!.status).toBe('completed');

    // alice's task is no task of bob's: the same answer as one that never existed.
    expect(await py.send({ op: 'get', taskId: alicesTask })).toMatchObject({ error: { code: -32602, message: expect.stringContaining('Task not found') } });
    expect(await py.send({ op: 'result', taskId: alicesTask })).toMatchObject({ error: { code: -32602 } });
    expect(await py.send({ op: 'cancel', taskId: alicesTask })).toMatchObject({ error: { code: -32602 } });
  } finally {
    await py.close();
  }
}, 180_000);
