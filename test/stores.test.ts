/**
 * The stores behind consent, the audit trail, access lists, disabled users, step results and runs behave
 * the same on the embedded SQLite file and on PostgreSQL — including across processes sharing the database:
 * concurrent audit writers still form one chain, and an OAuth `state` is spent once however many race for it.
 */
import { randomBytes } from 'node:crypto';
import { AuditLog } from '../core/audit/audit-log.ts';
import type { AuditEventInput } from '../core/audit/audit-event.ts';
import { verifyAuditChain } from '../core/audit/verify-chain.ts';
import { ConsentStore } from '../core/consent/consent-store.ts';
import { PendingAuthorizations, type PendingAuthorization } from '../core/consent/pending-authorizations.ts';
import type { SqlDatabase } from '../core/db.ts';
import { StepStore } from '../core/steps/step-store.ts';
import { AccessGrants } from '../core/access/access-grants.ts';
import { DisabledUsers } from '../core/access/disabled-users.ts';
import type { Principal } from '../gateway/auth/principal.ts';
import { LegacyClientCapabilities } from '../core/mcp/legacy-clients.ts';
import { RunRegistry } from '../core/runs/run-registry.ts';
import { BrowserSessions } from '../core/sessions/browser-sessions.ts';
import { raceProcesses } from './support/racing-processes.ts';
import { storageBackends } from './support/storage-backends.ts';

const actor = { tenant: 'acme', subject: 'alice', email: 'alice@example.com', name: 'Alice Example', authMethod: 'oauth' };

describe.each(storageBackends('stores'))('stores on $name', (backend) => {
  let db: SqlDatabase;
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  beforeEach(async () => {
    await backend.fresh();
    db = await backend.open();
  });
  afterEach(() => db.close());

  describe('consent requests', () => {
    const request = (id: string, app = 'github') => ({
      id,
      tenant: 'acme',
      subject: 'alice',
      app,
      scopes: ['repo'],
      reason: 'triage needs GitHub',
      rootWorkflowId: `root-${id}`,
      waitingWorkflowId: `child-${id}`,
    });

    test('are recorded once, found by id and by user, and resolved once', async () => {
      const consents = new ConsentStore(db);
      expect(await consents.record(request('c1'))).toBe(true);
      expect(await consents.record(request('c1'))).toBe(false); // an activity retried after a crash: already there
      await consents.record(request('c2', 'slack'));
      await consents.record({ ...request('c3'), subject: 'bob' });

      expect(await consents.get('c1')).toEqual({ ...request('c1'), status: 'pending', createdAt: expect.any(Number), resolvedAt: null });
      expect(typeof (await consents.get('c1'))!.createdAt).toBe('number');
      expect(await consents.get('nope')).toBeUndefined();
      expect((await consents.pendingFor('acme', 'alice', 'github')).map((found) => found.id)).toEqual(['c1']);
      expect((await consents.pendingForUser('acme', 'alice')).map((found) => found.id).sort()).toEqual(['c1', 'c2']);

      expect(await consents.resolve('c1', 'granted')).toBe(true);
      expect(await consents.resolve('c1', 'denied')).toBe(false); // already closed: the first answer stands
      expect(await consents.get('c1')).toMatchObject({ status: 'granted', resolvedAt: expect.any(Number) });
      expect(await consents.pendingFor('acme', 'alice', 'github')).toEqual([]);
    });
  });

  describe('pending authorizations', () => {
    const pending = (state: string): PendingAuthorization => ({
      state,
      tenant: 'acme',
      subject: 'alice',
      app: 'github',
      consentId: 'c1',
      sessionBinding: 'browser-1',
      codeVerifier: `verifier-${state}`,
      redirectUri: 'http://127.0.0.1/oauth/callback/github',
    });

    test('are single use, and bound to their app and browser session', async () => {
      const authorizations = new PendingAuthorizations(db);
      await authorizations.add(pending('s1'));
      expect(await authorizations.take('s1', { app: 'github', sessionBinding: 'browser-1' })).toEqual({ kind: 'ok', pending: pending('s1') });
      expect(await authorizations.take('s1', { app: 'github', sessionBinding: 'browser-1' })).toEqual({ kind: 'unknown' });

      await authorizations.add(pending('s2'));
      expect(await authorizations.take('s2', { app: 'slack', sessionBinding: 'browser-1' })).toEqual({ kind: 'other_app' });
      expect(await authorizations.take('s2', { app: 'github', sessionBinding: 'browser-1' })).toEqual({ kind: 'unknown' }); // spent by the misdirected callback

      await authorizations.add(pending('s3'));
      expect(await authorizations.take('s3', { app: 'github', sessionBinding: 'browser-2' })).toEqual({ kind: 'other_session' });

      await authorizations.add(pending('s4'));
      await db.run('UPDATE consent_authorizations SET expires_at = ? WHERE state = ?', Date.now() - 1, 's4');
      expect(await authorizations.take('s4', { app: 'github', sessionBinding: 'browser-1' })).toEqual({ kind: 'expired' });
    });

    test('an OAuth state is spent once when several processes race for it', async () => {
      await new PendingAuthorizations(db).add(pending('raced'));
      const outcomes = await raceProcesses<string>({
        count: 4,
        env: backend.env(),
        imports: { authorizations: 'core/consent/pending-authorizations.ts' },
        body: `const db = await openTestDatabase();
const store = new authorizations.PendingAuthorizations(db);
await ready();
result((await store.take('raced', { app: 'github', sessionBinding: 'browser-1' })).kind);
await db.close();`,
      });
      expect(outcomes.sort()).toEqual(['ok', 'unknown', 'unknown', 'unknown']);
    }, 30_000);
  });

  describe('the audit log', () => {
    const event = (overrides: Partial<AuditEventInput> = {}): AuditEventInput => ({
      kind: 'app_call',
      outcome: 'ok',
      actor,
      tool: 'triage',
      rootRunId: 'run-1',
      runPath: ['run-1'],
      app: 'github',
      action: 'issues.get',
      upstreamStatus: 200,
      durationMs: 12,
      ...overrides,
    });

    test('records round-trip with every field, and queries filter, page and stream them', async () => {
      const key = randomBytes(32);
      let clock = 1_790_000_000_000;
      const log = new AuditLog(db, key, { now: () => clock++ });
      const seen: number[] = [];
      log.onRecord((record) => seen.push(record.seq));
      const first = await log.record(
        event({
          credential: { mode: 'user_oauth', owner: 'user', externalAccount: 'alice-gh', reason: null },
          objectRef: 'issue:OPS-12',
          traceId: 'trace-1',
          detail: { consentId: 'c1', retried: false, attempt: 2 },
        }),
      );
      await log.record(event({ app: 'slack', action: 'chat.postMessage', objectRef: 'message:C1/1700.5' }));
      const third = await log.record(
        event({ actor: { ...actor, subject: 'bob', email: null, name: null }, rootRunId: 'run-2', runPath: ['run-2', 'child-2'], outcome: 'failed', upstreamStatus: 500 }),
      );
      const fourth = await log.record(event({ kind: 'tool_call.finished', outcome: 'completed', app: null, action: null, upstreamStatus: null }));
      for (let i = 0; i < 5; i++) await log.record(event({ rootRunId: 'run-3', objectRef: `comment:${i}` }));

      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await log.query({ limit: 1 }))[0]!.seq).toBe(9);
      const stored = await log.query({ rootRunId: 'run-1', app: 'github', kind: 'app_call' });
      expect(stored).toEqual([first]); // every field, numbers as numbers, JSON columns parsed
      expect(stored[0]).toMatchObject({ seq: 1, at: 1_790_000_000_000, upstreamStatus: 200, durationMs: 12, detail: { consentId: 'c1', retried: false, attempt: 2 } });

      expect((await log.query({ subject: 'bob' })).map((record) => record.seq)).toEqual([3]);
      expect((await log.query({ outcome: 'completed' })).map((record) => record.kind)).toEqual(['tool_call.finished']);
      expect((await log.query({ since: third.at, until: fourth.at })).map((record) => record.seq)).toEqual([4, 3]);
      expect((await log.query({ beforeSeq: 4, limit: 2 })).map((record) => record.seq)).toEqual([3, 2]);
      const streamed: number[] = [];
      for await (const record of log.stream({ rootRunId: 'run-3' }, 2)) streamed.push(record.seq);
      expect(streamed).toEqual([5, 6, 7, 8, 9]);
      expect((await log.forRun('run-2')).map((record) => record.runPath)).toEqual([['run-2', 'child-2']]);
      expect(await verifyAuditChain(db, key)).toMatchObject({ records: 9, problems: [] });
    });

    test('"who changed it" matches the object literally: a % or _ in it is no wildcard', async () => {
      const log = new AuditLog(db, randomBytes(32));
      await log.record(event({ app: 'jira', action: 'issues.create', objectRef: 'issue:OPS-12' }));
      await log.record(event({ app: 'jira', action: 'issues.create', objectRef: 'issue:OPS_2' }));
      await log.record(event({ app: 'slack', action: 'chat.postMessage', objectRef: 'message:C1/1700.5' }));
      await log.record(event({ app: 'jira', action: 'issues.create', objectRef: 'issue:OPS-99', outcome: 'failed' }));
      expect((await log.whoChanged('jira', 'OPS-12')).map((record) => record.objectRef)).toEqual(['issue:OPS-12']);
      expect((await log.whoChanged('jira', 'issue:OPS-12')).map((record) => record.objectRef)).toEqual(['issue:OPS-12']);
      expect(await log.whoChanged('jira', 'OPS_12')).toEqual([]);
      expect(await log.whoChanged('jira', 'OPS%')).toEqual([]);
      expect((await log.whoChanged('jira', 'OPS_2')).map((record) => record.objectRef)).toEqual(['issue:OPS_2']);
      expect((await log.whoChanged('slack', '1700.5')).map((record) => record.objectRef)).toEqual(['message:C1/1700.5']);
      expect(await log.whoChanged('jira', 'OPS-99')).toEqual([]); // failed calls changed nothing
    });

    test('writers in several processes at once each keep an unbroken chain, and the trail verifies whole', async () => {
      const key = randomBytes(32);
      const perProcess = 25;
      const appendAll = async (log: AuditLog, who: string) => {
        for (let i = 0; i < perProcess; i++) await log.record(event({ rootRunId: who, objectRef: `comment:${who}-${i}` }));
        await log.close();
      };
      let parentWrites: Promise<void> = Promise.resolve();
      const racing = raceProcesses<number>({
        count: 3,
        // This process writes too, while the others do.
        released: () => {
          parentWrites = appendAll(new AuditLog(db, key), 'parent');
        },
        env: backend.env(),
        imports: { audit: 'core/audit/audit-log.ts' },
        body: `const db = await openTestDatabase();
const log = new audit.AuditLog(db, Buffer.from(${JSON.stringify(key.toString('base64'))}, 'base64'));
const actor = ${JSON.stringify(actor)};
await ready();
for (let i = 0; i < ${perProcess}; i++) {
  await log.record({ kind: 'app_call', outcome: 'ok', actor, tool: 'triage', rootRunId: 'process-' + process.argv[2], runPath: ['r'], app: 'github', action: 'issues.get', objectRef: 'comment:' + i });
}
await log.close();
result(${perProcess});
await db.close();`,
      });
      expect(await racing).toEqual([perProcess, perProcess, perProcess]);
      await parentWrites;

      const report = await verifyAuditChain(db, key);
      expect(report).toMatchObject({ records: 4 * perProcess, chains: 4, problems: [], uncovered: 0 });
      const perChain = await db.all<{ n: number; last: number }>('SELECT COUNT(*) AS n, MAX(chain_seq) AS last FROM audit_events GROUP BY chain');
      expect(perChain.map((chain) => [Number(chain.n), Number(chain.last)])).toEqual(Array(4).fill([perProcess, perProcess]));
    }, 60_000);
  });

  test('access grants: added once, listed in byte order, removed', async () => {
    const grants = new AccessGrants(db);
    expect(await grants.add({ server: 'eng', kind: 'user', value: 'bob', addedBy: 'ops' })).toBe(true);
    expect(await grants.add({ server: 'eng', kind: 'user', value: 'bob', addedBy: 'ops' })).toBe(false);
    // Ordering is byte-wise on both backends (PostgreSQL's text columns use the "C" collation), as SQLite's.
    for (const value of ['alice', 'Zed', '_svc', 'Émile']) await grants.add({ server: 'eng', kind: 'user', value, addedBy: 'ops' });
    await grants.add({ server: 'eng', kind: 'group', value: 'sre', addedBy: 'ops' });
    await grants.add({ server: 'other', kind: 'user', value: 'carol', addedBy: 'ops' });
    expect((await grants.forList('eng')).map((grant) => `${grant.kind}:${grant.value}`)).toEqual(['group:sre', 'user:Zed', 'user:_svc', 'user:alice', 'user:bob', 'user:Émile']);
    expect((await grants.forList('eng'))[0]).toEqual({ server: 'eng', kind: 'group', value: 'sre', addedBy: 'ops', addedAt: expect.any(Number) });
    expect(typeof (await grants.forList('eng'))[0]!.addedAt).toBe('number');
    expect(await grants.remove('eng', 'user', 'bob')).toBe(true);
    expect(await grants.remove('eng', 'user', 'bob')).toBe(false);
    expect(await grants.forList('eng')).toHaveLength(5);
  });

  test('disabled users: the first record stands; enable removes it', async () => {
    const users = new DisabledUsers(db);
    expect(await users.disable({ tenant: 'acme', subject: 'mallory' }, 'admin', 'left the company')).toBe(true);
    expect(await users.disable({ tenant: 'acme', subject: 'mallory' }, 'someone-else')).toBe(false);
    await users.disable({ tenant: 'beta', subject: 'eve' }, 'admin');
    expect(await users.find('acme', 'mallory')).toEqual({ tenant: 'acme', subject: 'mallory', disabledAt: expect.any(Number), disabledBy: 'admin', reason: 'left the company' });
    expect((await users.list()).map((user) => user.subject)).toEqual(['mallory', 'eve']);
    expect((await users.list('beta')).map((user) => user.subject)).toEqual(['eve']);
    expect(await users.enable({ tenant: 'acme', subject: 'mallory' })).toBe(true);
    expect(await users.enable({ tenant: 'acme', subject: 'mallory' })).toBe(false);
    expect(await users.find('acme', 'mallory')).toBeUndefined();
  });

  test('step results: the first result stands', async () => {
    const steps = new StepStore(db);
    expect(await steps.find('run-1/step-1')).toBeUndefined();
    await steps.save('run-1/step-1', { issue: 'OPS-12', count: 3 });
    await steps.save('run-1/step-1', { issue: 'OPS-13' });
    await steps.save('run-1/step-2', undefined);
    expect(await steps.find('run-1/step-1')).toEqual({ result: { issue: 'OPS-12', count: 3 } });
    expect(await steps.find('run-1/step-2')).toEqual({ result: null });
  });

  test('runs: only their owner finds them; a handed-back run is found again until delivered', async () => {
    const runs = new RunRegistry(db);
    const alice = { tenant: 'acme', subject: 'alice' };
    await runs.recordStarted({ workflowId: 'wf-1', ...alice, tool: 'triage', argumentsDigest: 'd1' });
    await runs.recordStarted({ workflowId: 'wf-2', ...alice, tool: 'triage', argumentsDigest: 'd2' });
    expect(await runs.findOwned('wf-1', { tenant: 'acme', subject: 'bob' })).toBeUndefined();
    expect(await runs.findOwned('wf-1', alice)).toMatchObject({ workflowId: 'wf-1', deliveredAt: null, createdAt: expect.any(Number) });
    expect(await runs.findHandedBack(alice, 'triage', 'd1', 0)).toBeUndefined();
    await runs.markHandedBack('wf-1');
    expect((await runs.findHandedBack(alice, 'triage', 'd1', 0))?.workflowId).toBe('wf-1');
    expect((await runs.undelivered(alice)).map((run) => run.workflowId).sort()).toEqual(['wf-1', 'wf-2']);
    await runs.markDelivered('wf-1');
    expect(await runs.findHandedBack(alice, 'triage', 'd1', 0)).toBeUndefined();
    expect(await runs.listFor(alice, 1)).toHaveLength(1);
    expect((await runs.undelivered(alice)).map((run) => run.workflowId)).toEqual(['wf-2']);
  });

  test('browser sessions: found by cookie only, closed everywhere at once; sign-ins are single use', async () => {
    const sessions = new BrowserSessions(db);
    const cookie = await sessions.open({ tenant: 'acme', subject: 'alice', email: 'alice@example.com', name: null });
    const other = await sessions.open({ tenant: 'acme', subject: 'alice', email: null, name: null });
    expect(await sessions.find(cookie)).toMatchObject({ tenant: 'acme', subject: 'alice', email: 'alice@example.com', name: null });
    expect(await sessions.find('not-a-cookie')).toBeUndefined();
    expect(await backend.storedText(db)).not.toContain(cookie); // only hashes are stored
    expect(await sessions.closeAllFor({ tenant: 'acme', subject: 'alice' })).toBe(2);
    expect(await sessions.find(other)).toBeUndefined();

    await sessions.startSignIn('state-1', 'sign-in-cookie', { codeVerifier: 'v', nonce: 'n', returnTo: '/account' });
    expect(await sessions.takeSignIn('state-1', 'another-browser')).toBeUndefined();
    await sessions.startSignIn('state-2', 'sign-in-cookie', { codeVerifier: 'v', nonce: 'n', returnTo: '/account' });
    expect(await sessions.takeSignIn('state-2', 'sign-in-cookie')).toEqual({ codeVerifier: 'v', nonce: 'n', returnTo: '/account' });
    expect(await sessions.takeSignIn('state-2', 'sign-in-cookie')).toBeUndefined();
  });

  test('what a 2025-era client declared is remembered per user and client', async () => {
    const clients = new LegacyClientCapabilities(db);
    const principal: Principal = {
      kind: 'user',
      authMethod: 'oauth',
      subject: 'alice',
      email: null,
      name: null,
      tenant: 'acme',
      groups: [],
      issuer: 'https://idp.example',
      clientId: 'cursor',
      scopes: [],
      expiresAt: null,
      apiTokenId: null,
    };
    expect(await clients.supportsUrlElicitation(principal)).toBe(false);
    await clients.recordInitialize(principal, { elicitation: { url: {} } });
    expect(await clients.supportsUrlElicitation(principal)).toBe(true);
    expect(await clients.supportsUrlElicitation({ ...principal, clientId: 'claude' })).toBe(false);
    await clients.recordInitialize(principal, {});
    expect(await clients.supportsUrlElicitation(principal)).toBe(false);
  });
});
