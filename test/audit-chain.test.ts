/**
 * The audit trail is tamper-evident with many writers: each process appends to a chain of its own, in
 * parallel, and checkpoints tie the chains together. `baton audit verify` passes on an untouched log and
 * names the record after one is edited (a column, or a field added to its JSON), deleted, swapped, or a
 * chain's tail cut off — directly in the database, SQLite's file or PostgreSQL — also with four processes
 * appending at once.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chainHash, GENESIS } from '../core/audit/audit-chain.ts';
import type { AuditEventInput } from '../core/audit/audit-event.ts';
import { AuditLog } from '../core/audit/audit-log.ts';
import { verifyAuditChain } from '../core/audit/verify-chain.ts';
import { openPostgres, openSqlite, type SqlDatabase } from '../core/db.ts';
import { MIGRATIONS } from '../core/storage/migrations.ts';
import { raceProcesses } from './support/racing-processes.ts';
import { until } from './support/until.ts';
import { storageBackends, type StorageBackend } from './support/storage-backends.ts';

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));
const auditKey = randomBytes(32);
const actor = { tenant: 'acme', subject: 'alice', email: 'alice@example.com', name: 'Alice Example', authMethod: 'oauth' };

/** The backend of the tests running now. */
let backend: StorageBackend;

const runEvents: AuditEventInput[] = [
  { kind: 'tool_call.started', outcome: 'started', actor, tool: 'triage_pull_request', rootRunId: 'run-1', runPath: ['run-1'] },
  ...(
    [
      ['github', 'pulls.get', null],
      ['slack', 'chat.postMessage', 'message:C1/1.2'],
      ['jira', 'issues.create', 'issue:OPS-1'],
      ['github', 'issues.createComment', 'comment:7'],
    ] as const
  ).map(([app, action, objectRef]): AuditEventInput => ({
    kind: 'app_call',
    outcome: 'ok',
    actor,
    tool: 'triage_pull_request',
    rootRunId: 'run-1',
    runPath: ['run-1'],
    app,
    action,
    objectRef,
    upstreamStatus: 200,
    durationMs: 12,
    credential: { mode: 'user_oauth', owner: 'user', externalAccount: 'alice-gh', reason: null },
  })),
  { kind: 'tool_call.finished', outcome: 'completed', actor, tool: 'triage_pull_request', rootRunId: 'run-1', runPath: ['run-1'], durationMs: 80 },
];

/** A fresh database with six records from one writer that closed its log (so a checkpoint covers them). */
async function logWithSixRecords(): Promise<{ home: string; db: SqlDatabase; chain: string }> {
  const home = mkdtempSync(join(tmpdir(), 'baton-audit-'));
  const db = await backend.open();
  const log = new AuditLog(db, auditKey);
  const records = [];
  for (const event of runEvents) records.push(await log.record(event));
  await log.close();
  return { home, db, chain: records[0]!.chain };
}

function verifyWithCli(home: string, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [baton, 'audit', 'verify', ...args],
      { env: { ...databaseFreeEnv(), ...backend.env(), BATON_HOME: home, BATON_AUDIT_KEY: auditKey.toString('base64'), BATON_CONFIG: '' } },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** This process's environment without any database setting of its own. */
function databaseFreeEnv(): NodeJS.ProcessEnv {
  const { BATON_DB: _db, BATON_DATABASE_URL: _url, ...env } = process.env;
  return env;
}

describe.each(storageBackends('audit_chain'))('the audit chain on $name', (current) => {
  beforeAll(async () => {
    backend = current;
    await backend.setUp();
  });
  afterAll(() => current.tearDown());
  beforeEach(() => current.fresh());

  test('an untouched log verifies, and verify prints the newest checkpoint to keep elsewhere', async () => {
    const { home, db } = await logWithSixRecords();
    await db.close();
    const result = await verifyWithCli(home);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^OK: 6 records in 1 chain\(s\) and 1 checkpoint\(s\), intact\. Head 1:[\w-]{43} /);
  });

  test('an edited record is named', async () => {
    const { home, db } = await logWithSixRecords();
    // Someone rewrites who filed the ticket.
    const [ticket] = await db.all<{ seq: number }>("SELECT seq FROM audit_events WHERE object_ref = 'issue:OPS-1'");
    await db.run("UPDATE audit_events SET subject = 'bob' WHERE seq = ?", ticket!.seq);
    await db.close();
    const result = await verifyWithCli(home);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`FAIL record #${ticket!.seq} was edited: its content no longer matches its hash`);
    expect(result.stdout).toContain('1 problem(s) in 6 records');
  });

  test("a field added to a record's JSON is an edit: the whole record is hashed", async () => {
    const { home, db } = await logWithSixRecords();
    const [ticket] = await db.all<{ seq: number; credential: string }>("SELECT seq, credential FROM audit_events WHERE object_ref = 'issue:OPS-1'");
    const credential = { ...JSON.parse(ticket!.credential), approvedBy: 'security' };
    await db.run('UPDATE audit_events SET credential = ? WHERE seq = ?', JSON.stringify(credential), ticket!.seq);
    const report = await verifyAuditChain(db, auditKey);
    await db.close();
    expect(report.problems).toEqual([{ seq: ticket!.seq, chain: expect.any(String), kind: 'edited', message: `record #${ticket!.seq} was edited: its content no longer matches its hash` }]);
    expect((await verifyWithCli(home)).status).toBe(1);
  });

  test('a deleted record is named', async () => {
    const { home, db, chain } = await logWithSixRecords();
    const third = await db.get<{ seq: number }>('SELECT seq FROM audit_events WHERE chain = ? AND chain_seq = 3', chain);
    await db.run('DELETE FROM audit_events WHERE seq = ?', third!.seq);
    await db.close();
    const result = await verifyWithCli(home);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`FAIL chain ${chain}: position #3 is missing (deleted) before record #${third!.seq + 1}`);
  });

  test('a deleted record is found even when the later ones are renumbered to hide the gap', async () => {
    const { db, chain } = await logWithSixRecords();
    await db.transaction(async (tx) => {
      await tx.run('DELETE FROM audit_events WHERE chain = ? AND chain_seq = 3', chain);
      for (const position of [4, 5, 6]) await tx.run('UPDATE audit_events SET chain_seq = ? WHERE chain = ? AND chain_seq = ?', position - 1, chain, position);
    });
    const report = await verifyAuditChain(db, auditKey);
    const moved = await db.get<{ seq: number }>('SELECT seq FROM audit_events WHERE chain = ? AND chain_seq = 3', chain);
    await db.close();
    expect(report.problems).toContainEqual({
      seq: moved!.seq,
      chain,
      kind: 'deleted',
      message: `the record written just before record #${moved!.seq} in chain ${chain} is gone (deleted or replaced)`,
    });
  });

  test('two swapped records are both named as out of order', async () => {
    const { home, db, chain } = await logWithSixRecords();
    const seqAt = async (position: number) => (await db.get<{ seq: number }>('SELECT seq FROM audit_events WHERE chain = ? AND chain_seq = ?', chain, position))!.seq;
    const [third, fourth] = [await seqAt(3), await seqAt(4)];
    await db.transaction(async (tx) => {
      await tx.run('UPDATE audit_events SET chain_seq = -1 WHERE seq = ?', third);
      await tx.run('UPDATE audit_events SET chain_seq = 3 WHERE seq = ?', fourth);
      await tx.run('UPDATE audit_events SET chain_seq = 4 WHERE seq = ?', third);
    });
    await db.close();
    const result = await verifyWithCli(home);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`FAIL record #${fourth} is out of order: it was written after record #${third}`);
    expect(result.stdout).toContain(`FAIL record #${third} is out of order: it was written before record #${fourth}`);
    expect(result.stdout).toContain('2 problem(s)');
  });

  test("a chain's tail cut off is found against the checkpoint that saw it; cut checkpoints against the head kept elsewhere", async () => {
    const { home, db, chain } = await logWithSixRecords();
    const head = (await verifyAuditChain(db, auditKey)).head!;
    await db.run('DELETE FROM audit_events WHERE chain = ? AND chain_seq >= 5', chain);
    let result = await verifyWithCli(home);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`FAIL chain ${chain} was cut: checkpoint #1 saw it reach position 6, it now ends at 4 (its last 2 record(s) deleted)`);

    // Cutting the checkpoint too leaves a log that is consistent in itself: only the head kept elsewhere tells.
    await db.run('DELETE FROM audit_checkpoints');
    await db.close();
    expect((await verifyWithCli(home)).status).toBe(0);
    result = await verifyWithCli(home, '--expect-head', `${head.seq}:${head.hash}`);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('checkpoint #1 with the hash you saved is not in the log');
  });

  test('a rewrite without the key is found everywhere', async () => {
    const { db } = await logWithSixRecords();
    const report = await verifyAuditChain(db, randomBytes(32));
    await db.close();
    expect(report.problems.map((problem) => problem.kind).sort()).toEqual(['edited', 'edited', 'edited', 'edited', 'edited', 'edited', 'edited']);
  });

  test('a process that keeps appending writes checkpoints by itself; `baton audit checkpoint` writes one on demand', async () => {
    const home = mkdtempSync(join(tmpdir(), 'baton-audit-'));
    const db = await backend.open();
    try {
      const log = new AuditLog(db, auditKey, { checkpointEveryMs: 50 });
      await log.record(runEvents[0]!);
      const first = await until('a checkpoint written by the timer', async () => (await verifyAuditChain(db, auditKey)).head ?? undefined, 10_000);
      await log.record(runEvents[1]!);
      const second = await until(
        'the next checkpoint, covering the new record',
        async () => {
          const report = await verifyAuditChain(db, auditKey);
          return report.head && report.head.seq > first.seq ? report : undefined;
        },
        10_000,
      );
      expect(second).toMatchObject({ records: 2, problems: [], uncovered: 0 });

      await log.close();

      // A log without a timer (a CLI command's, say): its record waits for the next checkpoint, or an operator's.
      const quiet = new AuditLog(db, auditKey);
      await quiet.record(runEvents[2]!);
      expect(await verifyAuditChain(db, auditKey)).toMatchObject({ records: 3, uncovered: 1, problems: [] });
      const cli = (command: string) =>
        new Promise<{ status: number; stdout: string }>((resolve) =>
          execFile(
            process.execPath,
            [baton, 'audit', command],
            { env: { ...databaseFreeEnv(), ...backend.env(), BATON_HOME: home, BATON_AUDIT_KEY: auditKey.toString('base64'), BATON_CONFIG: '' } },
            (error, stdout) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout }),
          ),
        );
      const written = await cli('checkpoint');
      expect(written.status).toBe(0);
      expect(written.stdout).toMatch(/^Checkpoint #\d+ written\.$/m);
      expect(await verifyAuditChain(db, auditKey)).toMatchObject({ records: 3, uncovered: 0, problems: [] });
      expect((await cli('checkpoint')).stdout).toContain('nothing to write');
      await quiet.close();
    } finally {
      await db.close();
    }
  });

  test('verify explains a malformed --expect-head', async () => {
    const { home, db } = await logWithSixRecords();
    await db.close();
    expect(await verifyWithCli(home, '--expect-head', 'six')).toMatchObject({ status: 2, stderr: expect.stringContaining('--expect-head takes <seq>:<hash>') });
  });

  test('four processes append at once, each to its own chain, and every kind of tampering is still found', async () => {
    const perProcess = 40;
    const appended = await raceProcesses<{ chain: string; last: number }>({
      count: 4,
      env: backend.env(),
      imports: { audit: 'core/audit/audit-log.ts' },
      body: `const db = await openTestDatabase();
const log = new audit.AuditLog(db, Buffer.from(${JSON.stringify(auditKey.toString('base64'))}, 'base64'));
const actor = ${JSON.stringify(actor)};
await ready();
// Not one at a time: all of them in flight together, as a busy worker appends.
const records = await Promise.all(Array.from({ length: ${perProcess} }, (_, i) =>
  log.record({ kind: 'app_call', outcome: 'ok', actor, tool: 'triage', rootRunId: 'process-' + process.argv[2], runPath: ['r'], app: 'github', action: 'issues.get', objectRef: 'comment:' + i })));
await log.close();
await db.close();
result({ chain: records[0].chain, last: records.at(-1).chainSeq });`,
    });
    expect(new Set(appended.map((one) => one.chain)).size).toBe(4);
    expect(appended.map((one) => one.last)).toEqual([perProcess, perProcess, perProcess, perProcess]);

    const db = await backend.open();
    try {
      const clean = await verifyAuditChain(db, auditKey);
      expect(clean).toMatchObject({ records: 4 * perProcess, chains: 4, problems: [], uncovered: 0 });
      expect(clean.checkpoints).toBeGreaterThanOrEqual(1);

      const [a, b, c, d] = appended.map((one) => one.chain) as [string, string, string, string];
      const seqOf = async (chain: string, position: number) => (await db.get<{ seq: number }>('SELECT seq FROM audit_events WHERE chain = ? AND chain_seq = ?', chain, position))!.seq;
      const edited = await seqOf(a, 7);
      await db.run("UPDATE audit_events SET outcome = 'failed' WHERE seq = ?", edited);
      const deletedBefore = await seqOf(b, 11);
      await db.run('DELETE FROM audit_events WHERE chain = ? AND chain_seq = 10', b);
      const [first, second] = [await seqOf(c, 20), await seqOf(c, 21)];
      await db.run('UPDATE audit_events SET chain_seq = -1 WHERE seq = ?', first);
      await db.run('UPDATE audit_events SET chain_seq = 20 WHERE seq = ?', second);
      await db.run('UPDATE audit_events SET chain_seq = 21 WHERE seq = ?', first);
      await db.run('DELETE FROM audit_events WHERE chain = ? AND chain_seq > ?', d, perProcess - 3);

      const report = await verifyAuditChain(db, auditKey);
      expect(report.problems).toEqual(
        expect.arrayContaining([
          { seq: edited, chain: a, kind: 'edited', message: `record #${edited} was edited: its content no longer matches its hash` },
          { seq: deletedBefore, chain: b, kind: 'deleted', message: `chain ${b}: position #10 is missing (deleted) before record #${deletedBefore}` },
          { seq: second, chain: c, kind: 'reordered', message: `record #${second} is out of order: it was written after record #${first}` },
          { seq: first, chain: c, kind: 'reordered', message: `record #${first} is out of order: it was written before record #${second}` },
          expect.objectContaining({ chain: 'checkpoints', kind: 'truncated', message: expect.stringContaining(`chain ${d} was cut`) }),
        ]),
      );
    } finally {
      await db.close();
    }
  }, 60_000);

  test('records written before parallel chains (one chain, version-1 links) still verify after the migration, and new ones start a chain', async () => {
    const spare = await backend.newDatabase();
    try {
      // A database as Baton left it before migration 3: the old single chain.
      const before = { migrations: MIGRATIONS.filter((migration) => migration.version < 3) };
      const old = 'BATON_DB' in spare.env ? await openSqlite(spare.env.BATON_DB, before) : await openPostgres(spare.env.BATON_DATABASE_URL, before);
      let prevHash = GENESIS;
      for (const [index, event] of runEvents.entries()) {
        const content = {
          at: 1_790_000_000_000 + index,
          kind: event.kind,
          outcome: event.outcome,
          actor,
          client: null,
          server: null,
          tool: event.tool ?? null,
          rootRunId: event.rootRunId ?? null,
          runPath: event.runPath ?? [],
          app: event.app ?? null,
          action: event.action ?? null,
          credential: event.credential ?? null,
          upstreamStatus: event.upstreamStatus ?? null,
          durationMs: event.durationMs ?? null,
          objectRef: event.objectRef ?? null,
          message: null,
          traceId: null,
          detail: {},
          chain: 'legacy',
        };
        const hash = chainHash(auditKey, prevHash, content, 1);
        await old.run(
          `INSERT INTO audit_events (seq, at, kind, outcome, tenant, subject, email, name, auth_method, client, server, tool, root_run_id, run_path, app, action, credential,
             upstream_status, duration_ms, object_ref, message, trace_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          index + 1,
          content.at,
          content.kind,
          content.outcome,
          actor.tenant,
          actor.subject,
          actor.email,
          actor.name,
          actor.authMethod,
          null,
          null,
          content.tool,
          content.rootRunId,
          JSON.stringify(content.runPath),
          content.app,
          content.action,
          content.credential && JSON.stringify(content.credential),
          content.upstreamStatus,
          content.durationMs,
          content.objectRef,
          null,
          null,
          '{}',
          prevHash,
          hash,
        );
        prevHash = hash;
      }
      await old.close();

      const db = await spare.open(); // migrates to the current schema
      try {
        const log = new AuditLog(db, auditKey);
        const next = await log.record(runEvents[0]!);
        await log.close();
        expect(next).toMatchObject({ seq: 7, chainSeq: 1 });
        expect(next.chain).not.toBe('legacy');
        expect(await verifyAuditChain(db, auditKey)).toMatchObject({ records: 7, chains: 2, problems: [], uncovered: 0 });
        // The old records keep their old protection: an edit there is still found.
        await db.run("UPDATE audit_events SET subject = 'mallory' WHERE seq = 2");
        expect((await verifyAuditChain(db, auditKey)).problems).toEqual([{ seq: 2, chain: 'legacy', kind: 'edited', message: 'record #2 was edited: its content no longer matches its hash' }]);
      } finally {
        await db.close();
      }
    } finally {
      await spare.drop();
    }
  });
});
