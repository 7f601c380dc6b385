/**
 * The audit chain is tamper-evident: `baton audit verify` passes on an untouched log and names the record
 * after one is edited, deleted or swapped directly in the database — SQLite's file or PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog } from '../core/audit/audit-log.ts';
import { verifyAuditChain } from '../core/audit/verify-chain.ts';
import type { SqlDatabase } from '../core/db.ts';
import { storageBackends, type StorageBackend } from './support/storage-backends.ts';

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));
const auditKey = randomBytes(32);
const actor = { tenant: 'acme', subject: 'alice', email: 'alice@example.com', name: 'Alice Example', authMethod: 'oauth' };

/** The backend of the tests running now. */
let backend: StorageBackend;

/** A fresh database with six records, like a short run leaves them. */
function logWithSixRecords(): { home: string; db: SqlDatabase } {
  const home = mkdtempSync(join(tmpdir(), 'baton-audit-'));
  const db = backend.open();
  const log = new AuditLog(db, auditKey);
  log.record({ kind: 'tool_call.started', outcome: 'started', actor, tool: 'triage_pull_request', rootRunId: 'run-1', runPath: ['run-1'] });
  for (const [app, action, objectRef] of [['github', 'pulls.get', null], ['slack', 'chat.postMessage', 'message:C1/1.2'], ['jira', 'issues.create', 'issue:OPS-1'], ['github', 'issues.createComment', 'comment:7']] as const) {
    log.record({ kind: 'app_call', outcome: 'ok', actor, tool: 'triage_pull_request', rootRunId: 'run-1', runPath: ['run-1'], app, action, objectRef, upstreamStatus: 200, durationMs: 12 });
  }
  log.record({ kind: 'tool_call.finished', outcome: 'completed', actor, tool: 'triage_pull_request', rootRunId: 'run-1', runPath: ['run-1'], durationMs: 80 });
  return { home, db };
}

function verifyWithCli(home: string, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [baton, 'audit', 'verify', ...args], { env: { ...databaseFreeEnv(), ...backend.env(), BATON_HOME: home, BATON_AUDIT_KEY: auditKey.toString('base64'), BATON_CONFIG: '' } }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
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

  test('an untouched log verifies, and verify prints the head to keep elsewhere', async () => {
    const { home, db } = logWithSixRecords();
    db.close();
    const result = await verifyWithCli(home);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^OK: 6 records, chain intact\. Head 6:[\w-]{43} /);
  });

  test('an edited record is named', async () => {
    const { home, db } = logWithSixRecords();
    // Someone rewrites who filed the ticket.
    db.run("UPDATE audit_events SET subject = 'bob' WHERE seq = 4");
    db.close();
    const result = await verifyWithCli(home);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL record #4 was edited: its content no longer matches its hash');
    expect(result.stdout).toContain('1 problem(s) in 6 records');
  });

  test('a deleted record is named', async () => {
    const { home, db } = logWithSixRecords();
    db.run('DELETE FROM audit_events WHERE seq = 3');
    db.close();
    const result = await verifyWithCli(home);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL record #3 is missing (deleted) before record #4');
  });

  test('a deleted record is found even when the later ones are renumbered to hide the gap', async () => {
    const { db } = logWithSixRecords();
    db.transaction(() => {
      db.run('DELETE FROM audit_events WHERE seq = 3');
      for (const seq of [4, 5, 6]) db.run('UPDATE audit_events SET seq = ? WHERE seq = ?', seq - 1, seq);
    });
    const report = verifyAuditChain(db, auditKey);
    db.close();
    expect(report.problems).toEqual([{ seq: 3, kind: 'deleted', message: 'the record written just before #3 is gone (deleted or replaced)' }]);
  });

  test('two swapped records are both named as out of order', async () => {
    const { home, db } = logWithSixRecords();
    db.transaction(() => {
      db.run('UPDATE audit_events SET seq = -1 WHERE seq = 3');
      db.run('UPDATE audit_events SET seq = 3 WHERE seq = 4');
      db.run('UPDATE audit_events SET seq = 4 WHERE seq = -1');
    });
    db.close();
    const result = await verifyWithCli(home);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL record #3 is out of order: it was written after record #4');
    expect(result.stdout).toContain('FAIL record #4 is out of order: it was written before record #3');
    expect(result.stdout).toContain('2 problem(s)');
  });

  test('a cut tail is found against the head saved earlier; a rewrite without the key is found everywhere', async () => {
    const { home, db } = logWithSixRecords();
    const head = verifyAuditChain(db, auditKey).head!;
    db.run('DELETE FROM audit_events WHERE seq = 6');
    db.close();
    expect((await verifyWithCli(home)).status).toBe(0); // a chain alone cannot see its own end cut off …
    const result = await verifyWithCli(home, '--expect-head', `${head.seq}:${head.hash}`);
    expect(result.status).toBe(1); // … the head kept elsewhere can
    expect(result.stdout).toContain('record #6 with the hash you saved is not in the log');

    const reopened = backend.open();
    const report = verifyAuditChain(reopened, randomBytes(32));
    reopened.close();
    expect(report.problems.map((problem) => problem.kind)).toEqual(['edited', 'edited', 'edited', 'edited', 'edited']);
  });

  test('verify explains a malformed --expect-head', async () => {
    const { home, db } = logWithSixRecords();
    db.close();
    expect(await verifyWithCli(home, '--expect-head', 'six')).toMatchObject({ status: 2, stderr: expect.stringContaining('--expect-head takes <seq>:<hash>') });
  });
});
