/**
 * Issue 2, point 5: a run whose identity header is missing, forged, tampered with, replayed from
 * another run or unsigned never reaches the vault or any app.
 */
import { Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import { MESSAGE_HEADER } from '../core/identity/context.ts';
import { generateIdentityKey } from '../core/identity/keys.ts';
import { createIdentitySigner } from '../core/identity/signer.ts';
import { createWorkflowMessageSigner } from '../core/identity/workflow-messages.ts';
import { actingAs } from '../gateway/temporal/identity-propagation.ts';
import { consentDecisionSignal, type ConsentDecision, type RunStatus } from '../workflows/protocol.ts';
import { commentOnPullRequest, probeIdentity } from './fixtures/probe-tools.ts';
import { alice } from './support/identities.ts';
import { Stack } from './support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await Stack.start();
  await stack.consent(alice, 'github');
}, 120_000);

afterAll(async () => stack?.close());

/** Starts probe_identity with whatever identity header the attacker chose (or none). */
async function startWithHeader(token: string | undefined, workflowId = `probe_identity-${randomUUID()}`) {
  const start = () => stack.client.workflow.start('probe_identity', { taskQueue: stack.settings.temporal.taskQueue, workflowId, args: [{}, {}] });
  return token === undefined ? start() : actingAs(token, start);
}

function tamper(token: string, change: (claims: Record<string, unknown>) => void): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
  change(claims);
  return `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
}

const attacks: Array<[string, (workflowId: string) => Promise<string | undefined>, RegExp]> = [
  ['missing', async () => undefined, /No signed identity travelled with this run/],
  [
    'signed by an unknown key that reuses the real key id',
    async (workflowId) => {
      const attackerKey = { ...(await generateIdentityKey()), kid: JSON.parse(stack.workerEnv.BATON_IDENTITY_JWKS!).keys[0].kid };
      return (await createIdentitySigner(attackerKey))(alice, { rootWorkflowId: workflowId, tool: 'probe_identity' });
    },
    /signature does not match \(forged or tampered\)/,
  ],
  [
    'signed by an unknown key with its own key id',
    async (workflowId) => (await createIdentitySigner(await generateIdentityKey()))(alice, { rootWorkflowId: workflowId, tool: 'probe_identity' }),
    /signed by a key this worker does not trust/,
  ],
  [
    'tampered (subject changed after signing)',
    async (workflowId) => tamper(await stack.sign({ ...alice, subject: 'bob' }, { rootWorkflowId: workflowId, tool: 'probe_identity' }), (claims) => (claims.sub = 'alice')),
    /signature does not match/,
  ],
  [
    'replayed from another run',
    async () => stack.sign(alice, { rootWorkflowId: `probe_identity-${randomUUID()}`, tool: 'probe_identity' }),
    /was signed for run "probe_identity-[^"]+" but is used by run/,
  ],
  [
    'unsigned (alg none)',
    async (workflowId) => {
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'baton-identity+jwt' }));
      const claims = base64url.encode(JSON.stringify({ sub: 'alice', run: { root: workflowId, tool: 'probe_identity' } }));
      return `${header}.${claims}.`;
    },
    /identity was rejected/,
  ],
  [
    'signed with a symmetric algorithm',
    async (workflowId) =>
      new SignJWT({ ctx: {}, run: { root: workflowId, tool: 'probe_identity' } })
        .setProtectedHeader({ alg: 'HS256', typ: 'baton-identity+jwt' })
        .setSubject('alice')
        .sign(new TextEncoder().encode('a guessable shared secret of 32b')),
    /identity was rejected/,
  ],
];

test.each(attacks)('identity %s: the run fails with a security error and never reaches the vault or GitHub', async (_name, makeToken, expected) => {
  const before = await stack.stores.vault.getConnectionInfo('acme', 'alice', 'github');
  const { requests: logBefore } = await stack.sandboxGet<{ requests: unknown[] }>('/_sandbox/requests');
  const workflowId = `probe_identity-${randomUUID()}`;

  const handle = await startWithHeader(await makeToken(workflowId), workflowId);
  await expect(handle.result()).rejects.toThrow();
  const status = await handle.query<{ state: string; error: { type: string; message: string } }>('baton.status');
  expect(status.state).toBe('failed');
  expect(status.error.type).toBe('IdentityRejected');
  expect(status.error.message).toMatch(expected);

  expect(await stack.stores.vault.getConnectionInfo('acme', 'alice', 'github')).toEqual(before); // lastUsedAt untouched
  const { requests: logAfter } = await stack.sandboxGet<{ requests: unknown[] }>('/_sandbox/requests');
  expect(logAfter).toHaveLength(logBefore.length);
  expect(await stack.stores.audit.forRun(workflowId)).toEqual([]);
});

test('the genuine identity, by contrast, reaches GitHub and is recorded', async () => {
  const before = await stack.stores.vault.getConnectionInfo('acme', 'alice', 'github');
  const handle = await stack.run(alice, probeIdentity, {});
  await handle.result();
  expect((await stack.stores.vault.getConnectionInfo('acme', 'alice', 'github'))?.lastUsedAt).toBeGreaterThan(before?.lastUsedAt ?? 0);
  expect(await stack.stores.audit.forRun(handle.workflowId)).toHaveLength(1);
});

describe('security, attack 3: a signed identity copied onto another run', () => {
  /** What is left in the vault, the sandbox and the audit trail, to compare before and after an attack. */
  const traces = async (workflowId: string) => ({
    vault: await stack.stores.vault.getConnectionInfo('acme', 'alice', 'github'),
    requests: (await stack.sandboxGet<{ requests: unknown[] }>('/_sandbox/requests')).requests.length,
    audit: (await stack.stores.audit.forRun(workflowId)).length,
  });
  const rejection = async (handle: { result(): Promise<unknown>; query<T>(name: string): Promise<T> }) => {
    await expect(handle.result()).rejects.toThrow();
    return (await handle.query<{ error: { type: string; message: string } }>('baton.status')).error;
  };

  test('the same identity on a new execution under the closed run’s id (id reuse allowed by the attacker) is IdentityRejected', async () => {
    const workflowId = `probe_identity-${randomUUID()}`;
    const token = await stack.sign(alice, { rootWorkflowId: workflowId, tool: 'probe_identity' });
    await (await startWithHeader(token, workflowId)).result(); // the genuine run, completed
    const before = await traces(workflowId);

    const replay = await actingAs(token, () =>
      stack.client.workflow.start('probe_identity', { taskQueue: stack.settings.temporal.taskQueue, workflowId, args: [{}, {}], workflowIdReusePolicy: 'ALLOW_DUPLICATE' }),
    );
    expect(await rejection(replay)).toEqual({
      type: 'IdentityRejected',
      message: expect.stringMatching(/^The identity of run "probe_identity-[^"]+" was already used by its execution [\w-]+; a signed identity acts in one execution only/),
    });
    expect(await traces(workflowId)).toEqual(before);
  });

  test('the identity on another registered workflow type under the id it names is IdentityRejected', async () => {
    const workflowId = `probe_identity-${randomUUID()}`;
    const token = await stack.sign(alice, { rootWorkflowId: workflowId, tool: 'probe_identity' });
    const before = await traces(workflowId);
    const otherType = await actingAs(token, () =>
      stack.client.workflow.start('comment_on_pull_request', { taskQueue: stack.settings.temporal.taskQueue, workflowId, args: [{ repo: 'acme/widgets', number: 1, body: 'as alice' }, {}] }),
    );
    expect(await rejection(otherType)).toEqual({ type: 'IdentityRejected', message: 'The identity was signed for a "probe_identity" run but is used by a "comment_on_pull_request" run.' });
    expect(await traces(workflowId)).toEqual(before);
  });
});

describe('security, attack 4: signals only the gateway sends must carry its signature', () => {
  /** Sends a decision with exactly this `baton-message` header (or none), as someone with Temporal access could, acting with the run's own identity header. */
  async function sendDecision(handle: WorkflowHandle, identity: string, decision: ConsentDecision, messageHeader?: string) {
    const raw = new Client({
      connection: stack.client.connection,
      namespace: stack.settings.temporal.namespace,
      interceptors: {
        workflow: [{ signal: (input, next) => next({ ...input, headers: messageHeader ? { ...input.headers, [MESSAGE_HEADER]: defaultPayloadConverter.toPayload(messageHeader) } : input.headers }) }],
      },
    });
    await actingAs(identity, () => raw.workflow.getHandle(handle.workflowId).signal(consentDecisionSignal, decision));
  }
  /** Waits until the run has checked (and refused) `count` signatures: each refusal is a failed local-activity marker in its history. */
  async function refusalsReach(handle: WorkflowHandle, count: number): Promise<string[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const events = (await handle.fetchHistory()).events ?? [];
      const refused = events.flatMap((event) => (event.markerRecordedEventAttributes?.failure ? [event.markerRecordedEventAttributes.failure] : []));
      if (refused.length >= count) return refused.map((failure) => rootMessage(failure));
      if (Date.now() > deadline) throw new Error(`only ${refused.length} of ${count} signals were refused`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const rootMessage = (failure: { message?: string | null; cause?: unknown }): string => (failure.cause ? rootMessage(failure.cause as typeof failure) : (failure.message ?? ''));

  test('forged, misdirected or altered decisions are ignored; the genuine consent then completes the run as the user', async () => {
    const victim = { ...alice, tenant: `signal-victims-${randomUUID().slice(0, 8)}` }; // alice, with nothing connected in this tenant
    const handle = await stack.run(victim, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'signed signals' }, { consentTimeoutMs: 120_000 });
    const paused: RunStatus = await stack.awaitOutcome(handle);
    expect(paused.state).toBe('paused');
    const consentId = paused.pending[0]!.consentId;
    const identity = await stack.sign(victim, { rootWorkflowId: handle.workflowId, tool: 'comment_on_pull_request' });
    const deny: ConsentDecision = { app: 'github', decision: 'denied', consentIds: [consentId] };
    const realKeySigner = await createWorkflowMessageSigner(stack.identityKey);

    await sendDecision(handle, identity, deny); // no signature at all
    await sendDecision(handle, identity, deny, await realKeySigner({ workflowId: `${handle.workflowId}-other`, name: 'baton.consentDecision', args: [deny] }));
    await sendDecision(handle, identity, deny, await realKeySigner({ workflowId: handle.workflowId, name: 'baton.consentDecision', args: [{ ...deny, decision: 'granted' }] }));
    await sendDecision(
      handle,
      identity,
      deny,
      await (
        await createWorkflowMessageSigner({ ...(await generateIdentityKey()), kid: stack.identityKey.kid })
      )({ workflowId: handle.workflowId, name: 'baton.consentDecision', args: [deny] }),
    );
    // Signals that arrive in one activation are checked side by side: their refusals are recorded in whichever order the checks end.
    const refusals = await refusalsReach(handle, 4);
    expect(refusals).toHaveLength(4);
    expect(refusals).toEqual(
      expect.arrayContaining([
        'The "baton.consentDecision" signal carries no signature; only the Baton gateway sends it.',
        expect.stringMatching(/^The signature is for "baton.consentDecision" to workflow "[^"]+-other", not for/),
        `The "baton.consentDecision" signal's arguments are not the ones signed.`,
        expect.stringMatching(/^The "baton.consentDecision" signal's signature was rejected: signature verification failed/),
      ]),
    );
    // None of them declined for the victim: the run still waits, its request still open, nothing recorded as declined.
    expect((await handle.query<RunStatus>('baton.status')).state).toBe('paused');
    expect((await stack.stores.consents.get(consentId))?.status).toBe('pending');
    expect((await stack.stores.audit.forRun(handle.workflowId)).map((record) => record.kind)).not.toContain('consent.denied');

    // The decision the gateway itself signs (the connect flow, through its client) is taken, naming this request.
    await stack.consent(victim, 'github');
    await expect(handle.result()).resolves.toBeDefined();
    expect((await stack.stores.consents.get(consentId))?.status).toBe('granted');
  }, 90_000);
});
