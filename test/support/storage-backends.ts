/**
 * The two storage backends every storage suite runs against: the embedded SQLite file and a real
 * PostgreSQL server (test/support/postgres.ts). Use as
 *
 *   describe.each(storageBackends('vault'))('on $name', (backend) => {
 *     beforeAll(() => backend.setUp());
 *     afterAll(() => backend.tearDown());
 *     beforeEach(() => backend.fresh());
 *     … await backend.open() …
 *   });
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgres, openSqlite, type SqlDatabase } from '../../core/db.ts';
import { createTestDatabase, type TestDatabase } from './postgres.ts';

export interface StorageBackend {
  readonly name: 'SQLite' | 'PostgreSQL';
  /** In beforeAll: PostgreSQL creates this suite's database. */
  setUp(): Promise<void>;
  /** In afterAll: removes what setUp and fresh made. */
  tearDown(): Promise<void>;
  /** In beforeEach: from now on open() reaches an empty database (schema in place). */
  fresh(): Promise<void>;
  /** A new connection (SQLite) or pool (PostgreSQL) to the current database; the caller closes it. */
  open(): Promise<SqlDatabase>;
  /** The variables that point a Baton process (CLI, worker, a child script) at the current database. */
  env(): { BATON_DB: string } | { BATON_DATABASE_URL: string };
  /** Everything the database stores, as text, to prove a secret is not in it: SQLite's file bytes (WAL included), PostgreSQL's rows. */
  storedText(db: SqlDatabase): Promise<string>;
  /** Another database, brand new: no Baton process has opened it yet, so no migration has run. */
  newDatabase(): Promise<SpareDatabase>;
}

export interface SpareDatabase {
  env: { BATON_DB: string } | { BATON_DATABASE_URL: string };
  open(): Promise<SqlDatabase>;
  drop(): Promise<void>;
}

export function storageBackends(label: string): StorageBackend[] {
  return [sqliteBackend(label), postgresBackend(label)];
}

function sqliteBackend(label: string): StorageBackend {
  const dirs: string[] = [];
  let path = '';
  return {
    name: 'SQLite',
    setUp: async () => undefined,
    tearDown: async () => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), `baton-${label}-`));
      dirs.push(dir);
      path = join(dir, 'baton.db');
    },
    open: () => openSqlite(path),
    env: () => ({ BATON_DB: path }),
    storedText: async () =>
      [path, `${path}-wal`]
        .filter((file) => existsSync(file))
        .map((file) => readFileSync(file).toString('latin1'))
        .join(''),
    async newDatabase() {
      const dir = mkdtempSync(join(tmpdir(), `baton-${label}-`));
      dirs.push(dir);
      const file = join(dir, 'baton.db');
      return { env: { BATON_DB: file }, open: () => openSqlite(file), drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  };
}

function postgresBackend(label: string): StorageBackend {
  let database: TestDatabase | undefined;
  /** The suite's own connection, for emptying the database between tests. */
  let admin: SqlDatabase | undefined;
  const url = () => {
    if (!database) throw new Error('the PostgreSQL test database is not set up: call backend.setUp() in beforeAll');
    return database.url;
  };
  return {
    name: 'PostgreSQL',
    async setUp() {
      database = await createTestDatabase(label);
      admin = await openPostgres(database.url, { poolSize: 2 });
    },
    async tearDown() {
      await admin?.close();
      admin = undefined;
      await database?.drop();
      database = undefined;
    },
    async fresh() {
      // Emptying every table is as good as a new database (the migrations already ran) and far quicker;
      // DELETE beats TRUNCATE on tables this small.
      url();
      const db = admin!;
      const tables = (await userTables(db)).filter((table) => table !== 'schema_migrations');
      await db.exec(tables.map((table) => `DELETE FROM "${table}";`).join('\n'));
    },
    open: () => openPostgres(url()),
    env: () => ({ BATON_DATABASE_URL: url() }),
    storedText: async (db) => {
      const rows: string[] = [];
      for (const table of await userTables(db)) {
        for (const row of await db.all<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`)) rows.push(row.row);
      }
      return rows.join('\n');
    },
    async newDatabase() {
      const spare = await createTestDatabase(`${label}_spare`);
      return { env: { BATON_DATABASE_URL: spare.url }, open: () => openPostgres(spare.url), drop: () => spare.drop() };
    },
  };
}

async function userTables(db: SqlDatabase): Promise<string[]> {
  const rows = await db.all<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename');
  return rows.map((row) => row.name);
}
