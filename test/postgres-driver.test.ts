/**
 * What is particular to the PostgreSQL backend: how it is configured, the errors an operator sees when the
 * server is not there or refuses the login (never with the password), values coming back as SQLite returns
 * them, transactions, and a connection the server dropped being replaced.
 */
import { loadSettings } from '../core/config/settings.ts';
import { DatabaseUnavailableError, describeDatabase, openDatabase, openPostgres, PostgresError, type SqlDatabase } from '../core/db.ts';
import { freePort } from './support/free-port.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';

let database: TestDatabase;
let db: SqlDatabase;
beforeAll(async () => {
  database = await createTestDatabase('driver');
});
afterAll(() => database.drop());
beforeEach(() => {
  db = openPostgres(database.url);
});
afterEach(() => db.close());

/** The test server's URL with other credentials, port or database. */
function variant(change: (url: URL) => void): string {
  const url = new URL(database.url);
  change(url);
  return url.toString();
}

function openingError(url: string): Error {
  try {
    openPostgres(url, { connectTimeoutMs: 5_000 }).close();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected opening to fail');
}

describe('configuration', () => {
  test('BATON_DATABASE_URL selects PostgreSQL; unset or empty, the SQLite file stays the default', () => {
    const postgres = loadSettings({ BATON_HOME: '/tmp/baton-home', BATON_DATABASE_URL: database.url });
    expect(postgres.databaseUrl).toBe(database.url);
    const { username, hostname, port } = new URL(database.url);
    expect(describeDatabase(postgres)).toBe(`postgres://${username}@${hostname}:${port || '5432'}/${database.name}`);
    // Messages name the database by that description, never with the password.
    const withPassword = variant((url) => (url.password = 'not-the-password-8c1f'));
    expect(describeDatabase(loadSettings({ BATON_DATABASE_URL: withPassword }))).toBe(`postgres://${username}@${hostname}:${port || '5432'}/${database.name}`);
    const opened = openDatabase(postgres);
    try {
      expect(opened.get('SELECT current_database() AS name')).toEqual({ name: database.name });
    } finally {
      opened.close();
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

describe('a server that cannot be used is named, with the reason, never the password', () => {
  const password = 'not-the-password-8c1f';

  test('nothing listening', async () => {
    const port = await freePort();
    const error = openingError(variant((url) => ((url.port = String(port)), (url.password = password))));
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toMatch(new RegExp(`^Cannot connect to PostgreSQL at postgres://\\w+@127\\.0\\.0\\.1:${port}/${database.name}: connect ECONNREFUSED .*is the server running`));
    expect(error.message).not.toContain(password);
  });

  test('a refused login', () => {
    const error = openingError(variant((url) => (url.password = password)));
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toContain('password authentication failed for user');
    expect(error.message).toContain('check the user name and password in BATON_DATABASE_URL');
    expect(error.message).not.toContain(password);
  });

  test('no such database', () => {
    const error = openingError(variant((url) => (url.pathname = '/baton_no_such_database')));
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error.message).toContain('database "baton_no_such_database" does not exist');
  });
});

describe('values and statements', () => {
  test('numbers come back as numbers, bytes as bytes, text as text', () => {
    db.exec('CREATE TABLE kinds (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, body BLOB, ratio REAL, label TEXT)');
    db.run('INSERT INTO kinds (id, at, body, ratio, label) VALUES (?, ?, ?, ?, ?)', 1, 1_800_000_000_000, new Uint8Array([0, 1, 255]), 0.5, "it's ? here");
    db.run('INSERT INTO kinds (id, at, body, ratio, label) VALUES (?, ?, ?, ?, ?)', 2n, 2n ** 40n, null, null, null);
    const [first, second] = db.all<{ id: number; at: number; body: Uint8Array | null; ratio: number | null; label: string | null }>('SELECT * FROM kinds ORDER BY id');
    expect(first).toMatchObject({ id: 1, at: 1_800_000_000_000, ratio: 0.5, label: "it's ? here" });
    expect([...first!.body!]).toEqual([0, 1, 255]);
    expect(second).toEqual({ id: 2, at: 2 ** 40, body: null, ratio: null, label: null });
    expect(db.get('SELECT COUNT(*) AS n, SUM(at) AS total FROM kinds')).toEqual({ n: 2, total: 1_800_000_000_000 + 2 ** 40 });
    expect(db.run('UPDATE kinds SET label = ? WHERE id > ?', 'x', 0)).toEqual({ changes: 2 });
    expect(db.run("UPDATE kinds SET label = 'y' WHERE id = 99")).toEqual({ changes: 0 });
  });

  test("a failing statement throws PostgresError with the server's SQLSTATE", () => {
    db.run('INSERT INTO access_grants (server, kind, value, added_by, added_at) VALUES (?, ?, ?, ?, ?)', 'eng', 'user', 'bob', 'ops', 1);
    let thrown: unknown;
    try {
      db.run('INSERT INTO access_grants (server, kind, value, added_by, added_at) VALUES (?, ?, ?, ?, ?)', 'eng', 'user', 'bob', 'ops', 2);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PostgresError);
    expect(thrown).toMatchObject({ code: '23505', constraint: 'access_grants_pkey' });
  });

  test('a transaction commits all or nothing; one opened inside another joins it', () => {
    const count = () => db.get<{ n: number }>('SELECT COUNT(*) AS n FROM step_results')!.n;
    expect(() =>
      db.transaction(() => {
        db.run("INSERT INTO step_results (step_key, result, completed_at) VALUES ('a', '1', 1)");
        db.transaction(() => db.run("INSERT INTO step_results (step_key, result, completed_at) VALUES ('b', '1', 1)"));
        throw new Error('changed my mind');
      }),
    ).toThrow('changed my mind');
    expect(count()).toBe(0);
    expect(db.transaction(() => db.run("INSERT INTO step_results (step_key, result, completed_at) VALUES ('a', '1', 1)").changes)).toBe(1);
    expect(count()).toBe(1);
  });

  test('a connection the server dropped is replaced on the next call; within a transaction the transaction fails', () => {
    const other = openPostgres(database.url);
    try {
      const kill = () => {
        const { pid } = db.get<{ pid: number }>('SELECT pg_backend_pid() AS pid')!;
        other.get('SELECT pg_terminate_backend(?, 5000)', pid); // returns once the backend is gone
      };
      kill();
      // The first call may still see the old connection die; the one after it runs on a new one.
      try {
        db.get('SELECT 1 AS one');
      } catch {
        // dropped
      }
      expect(db.get('SELECT 1 AS one')).toEqual({ one: 1 });

      expect(() =>
        db.transaction(() => {
          db.run("INSERT INTO step_results (step_key, result, completed_at) VALUES ('lost', '1', 1)");
          kill();
          db.run("INSERT INTO step_results (step_key, result, completed_at) VALUES ('lost-2', '1', 1)");
        }),
      ).toThrow();
      expect(db.all("SELECT step_key FROM step_results WHERE step_key LIKE 'lost%'")).toEqual([]);
    } finally {
      other.close();
    }
  });

  test('after close every call says the database is closed', () => {
    const closing = openPostgres(database.url);
    closing.close();
    expect(() => closing.get('SELECT 1')).toThrow(/is closed/);
  });
});
