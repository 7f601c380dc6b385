/**
 * What is particular to the PostgreSQL backend: how it is configured, the errors an operator sees when the
 * server is not there or refuses the login (never with the password), values coming back as SQLite returns
 * them, transactions on a connection pool (several at once, no lock but the ones the statements take), the
 * statement timeout, a connection the server dropped being replaced, and a slow statement never holding up
 * the rest of the process.
 */
import { performance } from 'node:perf_hooks';
import { loadSettings } from '../core/config/settings.ts';
import { DatabaseUnavailableError, describeDatabase, isUniqueViolation, openDatabase, openPostgres, PostgresError, type SqlDatabase } from '../core/db.ts';
import { StepStore } from '../core/steps/step-store.ts';
import { freePort } from '../scripts/free-port.ts';
import { until } from './support/until.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';

let database: TestDatabase;
let db: SqlDatabase;
beforeAll(async () => {
  database = await createTestDatabase('driver');
});
afterAll(() => database.drop());
beforeEach(async () => {
  db = await openPostgres(database.url);
  await db.exec('DELETE FROM step_results; DELETE FROM access_grants;');
});
afterEach(() => db.close());

/** The test server's URL with other credentials, port or database. */
function variant(change: (url: URL) => void): string {
  const url = new URL(database.url);
  change(url);
  return url.toString();
}

async function openingError(url: string): Promise<Error> {
  try {
    await (await openPostgres(url, { connectTimeoutMs: 5_000 })).close();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected opening to fail');
}

/** A promise and the function that settles it. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

const insertStep = (key: string) => `INSERT INTO step_results (step_key, result, completed_at) VALUES ('${key}', '1', 1)`;

describe('configuration', () => {
  test('BATON_DATABASE_URL selects PostgreSQL; unset or empty, the SQLite file stays the default', async () => {
    const postgres = loadSettings({ BATON_HOME: '/tmp/baton-home', BATON_DATABASE_URL: database.url });
    expect(postgres.databaseUrl).toBe(database.url);
    const { username, hostname, port } = new URL(database.url);
    expect(describeDatabase(postgres)).toBe(`postgres://${username}@${hostname}:${port || '5432'}/${database.name}`);
    // Messages name the database by that description, never with the password.
    const withPassword = variant((url) => (url.password = 'not-the-password-8c1f'));
    expect(describeDatabase(loadSettings({ BATON_DATABASE_URL: withPassword }))).toBe(`postgres://${username}@${hostname}:${port || '5432'}/${database.name}`);
    const opened = await openDatabase(postgres);
    try {
      expect(opened.dialect).toBe('postgres');
      expect(await opened.get('SELECT current_database() AS name')).toEqual({ name: database.name });
    } finally {
      await opened.close();
    }
    for (const env of [{ BATON_HOME: '/tmp/baton-home' }, { BATON_HOME: '/tmp/baton-home', BATON_DATABASE_URL: '' }]) {
      const sqlite = loadSettings(env);
      expect(sqlite.databaseUrl).toBeUndefined();
      expect(describeDatabase(sqlite)).toBe('/tmp/baton-home/baton.db');
    }
  });

  test('a BATON_DATABASE_URL that is not a postgres:// URL is refused without echoing it', () => {
    expect(() => loadSettings({ BATON_DATABASE_URL: 'mysql://root:hunter2-secret@db/baton' })).toThrow(
      'Environment variable BATON_DATABASE_URL is invalid: the PostgreSQL URL must start with postgres:// (got mysql://…); write it as postgres://user:password@host:5432/database.',
    );
    expect(() => loadSettings({ BATON_DATABASE_URL: 'hunter2-secret' })).toThrow(/^Environment variable BATON_DATABASE_URL is invalid: the PostgreSQL URL is not a URL/);
    for (const bad of ['mysql://root:hunter2-secret@db/baton', 'hunter2-secret']) {
      try {
        loadSettings({ BATON_DATABASE_URL: bad });
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
      }
    }
  });
});

describe('the pool', () => {
  test('pool size and timeouts come from the environment, with defaults; a bad value names its variable', () => {
    expect(loadSettings({}).databasePool).toEqual({ poolSize: 10, connectTimeoutMs: 10_000, statementTimeoutMs: 30_000 });
    expect(loadSettings({ BATON_DATABASE_POOL_SIZE: '4', BATON_DATABASE_CONNECT_TIMEOUT_SECONDS: '2.5', BATON_DATABASE_STATEMENT_TIMEOUT_SECONDS: '5' }).databasePool).toEqual({
      poolSize: 4,
      connectTimeoutMs: 2_500,
      statementTimeoutMs: 5_000,
    });
    expect(() => loadSettings({ BATON_DATABASE_POOL_SIZE: '0' })).toThrow(/^Environment variable BATON_DATABASE_POOL_SIZE is invalid/);
    expect(() => loadSettings({ BATON_DATABASE_STATEMENT_TIMEOUT_SECONDS: 'soon' })).toThrow(/^Environment variable BATON_DATABASE_STATEMENT_TIMEOUT_SECONDS is invalid/);
  });

  test('a process never holds more connections than its pool size: further statements wait for a free one', async () => {
    const small = await openPostgres(database.url, { poolSize: 2 });
    const marker = `pool-size-${process.pid}`;
    try {
      // Four slow statements at once on a pool of two: two run, two queue inside the process.
      const slow = Array.from({ length: 4 }, () => small.get(`SELECT pg_sleep(1), '${marker}' AS marker`));
      const running = async () =>
        (await db.get<{ n: number }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%${marker}%' AND query NOT LIKE '%pg_stat_activity%'`))!.n;
      // Once the first two are at the server, the other two are still waiting in the process.
      const seen = [await until('two statements running at the server', async () => ((await running()) >= 2 ? running() : undefined), 10_000)];
      seen.push(await running(), await running());
      await Promise.all(slow);
      expect(seen).toEqual([2, 2, 2]);
    } finally {
      await small.close();
    }
  });
});

describe('a server that cannot be used is named, with the reason, never the password', () => {
  const password = 'not-the-password-8c1f';

  test('nothing listening', async () => {
    const port = await freePort();
    const error = await openingError(variant((url) => ((url.port = String(port)), (url.password = password))));
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toMatch(new RegExp(`^Cannot connect to PostgreSQL at postgres://\\w+@127\\.0\\.0\\.1:${port}/${database.name}: connect ECONNREFUSED .*is the server running`));
    expect(error.message).not.toContain(password);
  });

  test('a refused login', async () => {
    // A user the server does not know: refused whether the server checks passwords or trusts local logins.
    const error = await openingError(variant((url) => ((url.username = 'baton_nobody'), (url.password = password))));
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    const { hostname, port } = new URL(database.url);
    expect(error.message).toContain(`Cannot connect to PostgreSQL at postgres://baton_nobody@${hostname}:${port || '5432'}/${database.name}`);
    expect(error.message).toMatch(/password authentication failed for user "baton_nobody"|role "baton_nobody" does not exist/);
    expect(error.message).toContain('check the user name and password in BATON_DATABASE_URL');
    expect(error.message).not.toContain(password);
  });

  test('no such database', async () => {
    const error = await openingError(variant((url) => (url.pathname = '/baton_no_such_database')));
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toContain('database "baton_no_such_database" does not exist');
  });
});

describe('values and statements', () => {
  test('numbers come back as numbers, bytes as bytes, text as text', async () => {
    await db.exec('DROP TABLE IF EXISTS kinds; CREATE TABLE kinds (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, body BLOB, ratio REAL, label TEXT)');
    await db.run('INSERT INTO kinds (id, at, body, ratio, label) VALUES (?, ?, ?, ?, ?)', 1, 1_800_000_000_000, new Uint8Array([0, 1, 255]), 0.5, "it's ? here");
    await db.run('INSERT INTO kinds (id, at, body, ratio, label) VALUES (?, ?, ?, ?, ?)', 2n, 2n ** 40n, null, null, null);
    const [first, second] = await db.all<{ id: number; at: number; body: Uint8Array | null; ratio: number | null; label: string | null }>('SELECT * FROM kinds ORDER BY id');
    expect(first).toMatchObject({ id: 1, at: 1_800_000_000_000, ratio: 0.5, label: "it's ? here" });
    expect([...first!.body!]).toEqual([0, 1, 255]);
    expect(second).toEqual({ id: 2, at: 2 ** 40, body: null, ratio: null, label: null });
    expect(await db.get('SELECT COUNT(*) AS n, SUM(at) AS total FROM kinds')).toEqual({ n: 2, total: 1_800_000_000_000 + 2 ** 40 });
    expect(await db.run('UPDATE kinds SET label = ? WHERE id > ?', 'x', 0)).toEqual({ changes: 2 });
    expect(await db.run("UPDATE kinds SET label = 'y' WHERE id = 99")).toEqual({ changes: 0 });
    // RETURNING hands back the rows a statement changed (how single-use rows are taken).
    expect(await db.get<{ id: number }>('DELETE FROM kinds WHERE id = ? RETURNING id', 1)).toEqual({ id: 1 });
    expect(await db.get('DELETE FROM kinds WHERE id = ? RETURNING id', 1)).toBeUndefined();
  });

  test('a unique violation is isUniqueViolation (a PostgresError with SQLSTATE 23505); other failures are not', async () => {
    const grant = 'INSERT INTO access_grants (server, kind, value, added_by, added_at) VALUES (?, ?, ?, ?, ?)';
    await db.run(grant, 'eng', 'user', 'bob', 'ops', 1);
    const duplicate = await db.run(grant, 'eng', 'user', 'bob', 'ops', 2).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(duplicate).toBeInstanceOf(PostgresError);
    expect(duplicate).toMatchObject({ code: '23505', constraint: 'access_grants_pkey' });
    expect(isUniqueViolation(duplicate)).toBe(true);

    const otherFailure = await db.run('INSERT INTO access_grants (server) VALUES (?)', 'eng').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(otherFailure).toMatchObject({ code: '23502' }); // not null
    expect(isUniqueViolation(otherFailure)).toBe(false);
    expect(isUniqueViolation(new Error('duplicate key value violates unique constraint'))).toBe(false);
  });

  test('a transaction commits all or nothing, and is invisible outside until it commits', async () => {
    const count = async () => Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM step_results'))!.n);
    await expect(
      db.transaction(async (tx) => {
        await tx.run(insertStep('a'));
        await tx.run(insertStep('b'));
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await count()).toBe(0);

    const committed = await db.transaction(async (tx) => {
      await tx.run(insertStep('a'));
      const inside = Number((await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM step_results'))!.n);
      // A statement sent to the database itself meanwhile runs on another connection: it does not see the row yet.
      const outside = await count();
      await tx.run(insertStep('b'));
      return { inside, outside };
    });
    expect(committed).toEqual({ inside: 1, outside: 0 });
    expect(await count()).toBe(2);
    // A failing statement rolls the transaction back too.
    await expect(
      db.transaction(async (tx) => {
        await tx.run(insertStep('c'));
        await tx.run(insertStep('a')); // duplicate key
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await count()).toBe(2);
  });

  test('two transactions run at once on two connections: a row lock held by one does not stop the other', async () => {
    await db.run(insertStep('locked'));
    const locked = deferred<number>();
    const release = deferred();
    let firstOpen = true;
    const first = db.transaction(async (tx) => {
      // Holds a lock on this one row until the transaction ends.
      await tx.get("SELECT step_key FROM step_results WHERE step_key = 'locked' FOR UPDATE");
      locked.resolve((await tx.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid);
      await release.promise;
      return 'first committed';
    });
    const settled = () => (firstOpen = false);
    void first.then(settled, settled);
    const firstPid = await locked.promise;
    // If the second transaction waited for the first (a global lock), this releases the first after 10 s
    // so the test fails instead of hanging.
    const guard = setTimeout(() => release.resolve(), 10_000);
    try {
      // Meanwhile a write of the locked row waits for the row lock (it is real) ...
      let blockedDone = false;
      const blocked = db.run("UPDATE step_results SET result = '2' WHERE step_key = 'locked'").then((result) => {
        blockedDone = true;
        return result;
      });
      // ... while another transaction, writing another table, runs and commits on another connection.
      const secondPid = await db.transaction(async (tx) => {
        await tx.run('INSERT INTO access_grants (server, kind, value, added_by, added_at) VALUES (?, ?, ?, ?, ?)', 'eng', 'user', 'carol', 'ops', 1);
        return (await tx.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
      });
      expect(firstOpen).toBe(true);
      expect(blockedDone).toBe(false);
      expect(secondPid).not.toBe(firstPid);
      expect(await db.get('SELECT value FROM access_grants')).toEqual({ value: 'carol' });

      release.resolve();
      expect(await first).toBe('first committed');
      expect(await blocked).toEqual({ changes: 1 });
    } finally {
      clearTimeout(guard);
      release.resolve();
    }
  });

  test('the statement timeout cancels a statement that runs too long', async () => {
    const impatient = await openPostgres(database.url, { statementTimeoutMs: 300 });
    try {
      const started = performance.now();
      const error = await impatient.get('SELECT pg_sleep(10)').then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(PostgresError);
      expect(error).toMatchObject({ code: '57014', message: expect.stringContaining('statement timeout') });
      expect(elapsed).toBeLessThan(5_000);
      // The connection is fine afterwards.
      expect(await impatient.get('SELECT 1 AS one')).toEqual({ one: 1 });
    } finally {
      await impatient.close();
    }
  });

  test('a slow PostgreSQL statement in one store call does not block the process', async () => {
    const steps = new StepStore(db);
    const started = performance.now();
    let slowDoneAt: number | undefined;
    const slow = db.get('SELECT pg_sleep(2) AS slept').then(() => (slowDoneAt = performance.now()));

    // Meanwhile the same process answers other store calls and queries, and runs its timers.
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    const timerFiredAt = await new Promise<number>((resolve) => setTimeout(() => resolve(performance.now()), 0));
    await steps.save('run-1/step-1', { ok: true });
    expect(await steps.find('run-1/step-1')).toEqual({ result: { ok: true } });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => db.get<{ n: number }>('SELECT ? + 1 AS n', n)));
    expect(answers.map((answer) => answer!.n)).toEqual(Array.from({ length: 20 }, (_, n) => n + 1));
    const otherWorkDoneAt = performance.now();
    const ticksWhileSlow = ticks;
    expect(slowDoneAt).toBeUndefined(); // still sleeping at the server

    await slow;
    clearInterval(ticker);
    expect(timerFiredAt).toBeLessThan(slowDoneAt!);
    expect(otherWorkDoneAt).toBeLessThan(slowDoneAt!);
    expect(slowDoneAt! - started).toBeGreaterThanOrEqual(1_900);
    expect(otherWorkDoneAt - started).toBeLessThan(1_500);
    expect(ticks).toBeGreaterThan(ticksWhileSlow); // timers kept firing until the slow call ended
  });

  test('a connection the server dropped is replaced on the next call; within a transaction the transaction fails', async () => {
    const other = await openPostgres(database.url);
    try {
      const kill = async (pid: number) => {
        await other.get('SELECT pg_terminate_backend(?, 5000)', pid); // returns once the backend is gone
      };
      // Every pooled connection this test's pool has open is killed.
      const pids = (await db.all<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'baton' AND pid <> pg_backend_pid()")).map(
        (row) => row.pid,
      );
      const otherPid = (await other.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
      for (const pid of pids.filter((pid) => pid !== otherPid)) await kill(pid);
      // The first call may still see a dead connection; the one after it runs on a new one.
      await db.get('SELECT 1 AS one').catch(() => undefined);
      expect(await db.get('SELECT 1 AS one')).toEqual({ one: 1 });

      await expect(
        db.transaction(async (tx) => {
          await tx.run(insertStep('lost'));
          await kill((await tx.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid);
          await tx.run(insertStep('lost-2'));
        }),
      ).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect(await db.all("SELECT step_key FROM step_results WHERE step_key LIKE 'lost%'")).toEqual([]);
      expect(await db.get('SELECT 1 AS one')).toEqual({ one: 1 });
    } finally {
      await other.close();
    }
  });

  test('after close every call is refused', async () => {
    const closing = await openPostgres(database.url);
    await closing.close();
    await expect(closing.get('SELECT 1')).rejects.toThrow();
    await closing.close(); // closing twice is harmless
  });
});
