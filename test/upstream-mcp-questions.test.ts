/**
 * Issue 13: an upstream MCP server that asks the user something mid-call (a 2026-07-28 `input_required` form
 * elicitation — the sandbox notes server's delete_note asks to confirm) gets its question to the user's own
 * client when that client shows forms, and the user's answer back, at any depth; any other client is told
 * clearly why the call cannot go on, and nothing is deleted.
 */
import type { Client, ClientOptions } from '@modelcontextprotocol/client';
import { gatewayStackForSuite, openToEveryone, type DemoUserName, type GatewayStack } from './support/gateway-stack.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { deleteNoteInChild } from './fixtures/probe-tools.ts';
import { alice } from './support/identities.ts';
import { notesUpstreamYaml, upstreamEnv } from './support/upstreams.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), {
  config: (sandbox) => ({ yaml: `${openToEveryone}mcpServers:\n${notesUpstreamYaml(sandbox)}`, env: upstreamEnv(sandbox) }),
});

interface FormQuestion {
  mode?: string;
  message: string;
  requestedSchema: { properties: Record<string, { type: string }> };
}

/**
 * A 2026-07-28 client that completes consent links in the browser and answers each form question with
 * `answer` (recording what it was asked); `forms: false` declares URL elicitation only.
 */
async function modernClient(user: DemoUserName, answer: (question: FormQuestion) => { action: string; content?: Record<string, unknown> }, asked: FormQuestion[] = [], forms = true): Promise<Client> {
  const elicitation: Record<string, Record<string, never>> = forms ? { form: {}, url: {} } : { url: {} };
  const options: ClientOptions = { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation } };
  const client = await gs.connect(await gs.tokenFor(user), options);
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as FormQuestion & { url?: string };
    if (params.mode === 'url') {
      await gs.consentInBrowser(params.url!, user);
      return { action: 'accept' };
    }
    asked.push(params);
    return answer(params) as never;
  });
  return client;
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as { type: string; text: string }[]).map((block) => block.text).join('\n');
}

const confirmYes = () => ({ action: 'accept', content: { confirm: true } });

async function createNote(client: Client, title: string): Promise<string> {
  const created = await client.callTool({ name: 'notes__create_note', arguments: { title, body: 'to be deleted' } });
  expect(created.isError).toBeFalsy();
  return (created.structuredContent as { id: string }).id;
}

async function noteTitles(client: Client): Promise<string[]> {
  const listed = await client.callTool({ name: 'notes__list_notes', arguments: {} });
  return (listed.structuredContent as { notes: { title: string }[] }).notes.map((note) => note.title);
}

test('the upstream’s question reaches a 2026-07-28 client as a form; the answer goes back and the call finishes as the user', async () => {
  const asked: FormQuestion[] = [];
  const client = await modernClient('alice', confirmYes, asked);
  const id = await createNote(client, 'Old plan');

  const result = await client.callTool({ name: 'notes__delete_note', arguments: { id } });
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toEqual({ id, deleted: true });
  // Asked once, in the upstream's own words (said to come from it) and with its own form.
  expect(asked).toEqual([
    expect.objectContaining({
      message: 'notes asks: Delete the note "Old plan" for good?',
      requestedSchema: expect.objectContaining({ properties: { confirm: expect.objectContaining({ type: 'boolean' }) } }),
    }),
  ]);
  // The notes server deletes only with the state it handed out, echoed back with the answer.
  expect(await noteTitles(client)).not.toContain('Old plan');

  const runId = String((result._meta as Record<string, unknown>)['baton/runId']);
  const calls = (await gs.stack.stores.audit.query({ rootRunId: runId })).filter((record) => record.kind === 'app_call');
  // Two calls to the upstream, both audited as alice's: the one that was asked a question, the one with her answer.
  expect(calls.map((record) => [record.app, record.action, record.outcome, record.actor.subject]).sort()).toEqual([
    ['notes', 'delete_note', 'input_required', 'alice'],
    ['notes', 'delete_note', 'ok', 'alice'],
  ]);
  await expectNoSecretsInHistories(gs.stack);
  await client.close();
}, 120_000);

test('a user who declines: the upstream hears "decline" and keeps the note', async () => {
  const client = await modernClient('alice', () => ({ action: 'decline' }));
  const id = await createNote(client, 'Keep me');
  const result = await client.callTool({ name: 'notes__delete_note', arguments: { id } });
  expect(result.isError).toBe(true);
  expect(textOf(result)).toBe('Not deleted: you answered "decline".');
  expect(await noteTitles(client)).toContain('Keep me');
  await client.close();
}, 120_000);

test('a question asked two levels down goes to the user through the root run, and the answer to the child that asked', async () => {
  const asked: FormQuestion[] = [];
  const client = await modernClient('alice', confirmYes, asked);
  const id = await createNote(client, 'Deep note');
  const result = await client.callTool({ name: 'delete_note_in_child', arguments: { id } });
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toEqual({ deletedBy: 'child', id, deleted: true });
  expect(asked.map((question) => question.message)).toEqual(['notes asks: Delete the note "Deep note" for good?']);
  expect(await noteTitles(client)).not.toContain('Deep note');
  await client.close();
}, 120_000);

test('a client that cannot show forms is told why the call cannot go on, and nothing is deleted', async () => {
  // Connected first, through a client that can do everything.
  const full = await modernClient('bob', confirmYes);
  const id = await createNote(full, 'Safe note');
  await full.close();

  const urlOnly = await modernClient('bob', confirmYes, [], false);
  const modernAnswer = await urlOnly.callTool({ name: 'notes__delete_note', arguments: { id } });
  expect(modernAnswer.isError).toBe(true);
  expect(textOf(modernAnswer)).toBe(
    'The run failed: notes delete_note asks you "Delete the note "Safe note" for good?", and this client cannot show such questions: answering needs an MCP 2026-07-28 client with form elicitation. Call the tool again from one, or use notes directly.',
  );
  await urlOnly.close();

  const legacy = await gs.connect(await gs.tokenFor('bob'));
  const legacyAnswer = await legacy.callTool({ name: 'notes__delete_note', arguments: { id } });
  expect(legacyAnswer.isError).toBe(true);
  expect(textOf(legacyAnswer)).toContain('this client cannot show such questions');
  expect(await noteTitles(legacy)).toContain('Safe note');
  await legacy.close();
}, 120_000);

test('an answer the upstream cannot use is asked again, in a new round, until it can', async () => {
  const asked: FormQuestion[] = [];
  // First a malformed answer (a string where the form wants a boolean), then a proper one.
  const client = await modernClient('alice', () => (asked.length === 1 ? { action: 'accept', content: { confirm: 'yes please' } } : confirmYes()), asked);
  const id = await createNote(client, 'Twice asked');
  const result = await client.callTool({ name: 'notes__delete_note', arguments: { id } });
  expect(result.structuredContent).toEqual({ id, deleted: true });
  expect(asked).toHaveLength(2);
  await client.close();
}, 120_000);

test('a question nobody answers ends the step when the wait runs out, with the question named; nothing is deleted', async () => {
  const client = await modernClient('alice', confirmYes);
  const id = await createNote(client, 'Unanswered');
  // Started without an MCP client to answer (as a schedule would), waiting at most a second.
  const handle = await gs.stack.run({ ...alice }, deleteNoteInChild, { id }, { consentTimeoutMs: 1000 });
  const paused = await gs.stack.awaitOutcome(handle);
  expect(paused).toMatchObject({
    state: 'paused',
    pending: [],
    inputs: [expect.objectContaining({ server: 'notes', tool: 'delete_note', waitingWorkflowId: `${handle.workflowId}/delete_note_level_two-1` })],
  });
  await expect(handle.result()).rejects.toThrow();
  const status = await handle.query<{ error: { type: string; message: string } }>('baton.status');
  expect(status.error).toEqual({
    type: 'InputNotAnswered',
    message: 'notes delete_note asked you "Delete the note "Unanswered" for good?" and no answer came within 1 s; call the tool again to be asked again.',
  });
  expect(await noteTitles(client)).toContain('Unanswered');
  await client.close();
}, 120_000);
