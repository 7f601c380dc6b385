import type { SqlDatabase } from '../db.ts';
import { splitSqlStatements } from './dialect.ts';

/**
 * Baton's database schema, as an ordered list of migrations. Every process applies the ones its database
 * lacks when it opens the database (`openSqlite`, `openPostgres`), inside one transaction holding the
 * `baton.migrations` lock (SQLite's `BEGIN IMMEDIATE`; on PostgreSQL a named advisory lock only migrations
 * take), so two processes starting at once apply each migration once and the second one finds it done. PostgreSQL's DDL is transactional too: a migration
 * that fails leaves nothing half-applied.
 *
 * The SQL is written once, in the portable spelling (SQLite's; see storage/dialect.ts for how it is mapped
 * to PostgreSQL): types in capitals — TEXT, INTEGER (epoch milliseconds), BLOB. To change the schema, append
 * a migration with the next version; never edit one that has shipped.
 */
export interface Migration {
  version: number;
  name: string;
  /** Portable SQL, or one text per backend where they cannot share one (changing a primary key, say). */
  sql: string | { sqlite: string; postgres: string };
}

/**
 * Migration 3 on both backends. Records written before it form the chain `legacy` (their position is their
 * old sequence number, their hash the version-1 link over part of the record); every writer process appends
 * to a chain of its own from now on (hash version 2, over the whole record).
 */
const AUDIT_CHAINS_COMMON = `
ALTER TABLE audit_events ADD COLUMN chain TEXT NOT NULL DEFAULT 'legacy';
ALTER TABLE audit_events ADD COLUMN chain_seq INTEGER;
ALTER TABLE audit_events ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
UPDATE audit_events SET chain_seq = seq;
CREATE UNIQUE INDEX audit_events_chain_position ON audit_events (chain, chain_seq);
-- The chains: one per writer process, opened when it first appends, closed when it shuts down.
CREATE TABLE audit_chains (
  id TEXT PRIMARY KEY,
  writer TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  closed_at INTEGER
);
INSERT INTO audit_chains (id, writer, opened_at) SELECT 'legacy', 'before parallel chains', MIN(at) FROM audit_events HAVING COUNT(*) > 0;
-- Checkpoints: a chain of their own, each naming the head of every chain written to since the one before.
CREATE TABLE audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  heads TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema: vault, consent, audit, steps, API tokens, access lists, runs, browser sessions',
    // Written with IF NOT EXISTS so a SQLite database created before migrations existed (the stores created
    // these same tables themselves) is adopted as it is.
    sql: `
-- The vault: secrets live only in the sealed_* columns; everything else is metadata the UI may show.
CREATE TABLE IF NOT EXISTS vault_meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vault_connections (
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  app TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  expires_at INTEGER,
  scopes TEXT NOT NULL,
  external_account_id TEXT NOT NULL,
  external_login TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_used_at INTEGER,
  version INTEGER NOT NULL,
  refresh_lease_owner TEXT,
  refresh_lease_until INTEGER,
  PRIMARY KEY (tenant, subject, app)
);
CREATE TABLE IF NOT EXISTS vault_service_credentials (
  app TEXT PRIMARY KEY,
  label TEXT,
  sealed_secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vault_inbound_tokens (
  ref TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  sealed_token TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

-- Consent requests raised by paused runs, and authorizations sent to an app awaiting its callback.
CREATE TABLE IF NOT EXISTS consent_requests (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  app TEXT NOT NULL,
  scopes TEXT NOT NULL,
  reason TEXT NOT NULL,
  root_workflow_id TEXT NOT NULL,
  waiting_workflow_id TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  resolved_at INTEGER
);
CREATE INDEX IF NOT EXISTS consent_requests_waiting ON consent_requests (tenant, subject, app, status);
CREATE TABLE IF NOT EXISTS consent_authorizations (
  state TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  app TEXT NOT NULL,
  consent_id TEXT,
  session_binding TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

-- The hash-chained audit trail.
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  email TEXT,
  name TEXT,
  auth_method TEXT NOT NULL,
  client TEXT,
  server TEXT,
  tool TEXT,
  root_run_id TEXT,
  run_path TEXT NOT NULL,
  app TEXT,
  action TEXT,
  credential TEXT,
  upstream_status INTEGER,
  duration_ms INTEGER,
  object_ref TEXT,
  message TEXT,
  trace_id TEXT,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_subject ON audit_events (tenant, subject, at);
CREATE INDEX IF NOT EXISTS audit_events_run ON audit_events (root_run_id);
CREATE INDEX IF NOT EXISTS audit_events_object ON audit_events (app, object_ref);

-- Results of app calls that went through, so a retried step does not call the app again.
CREATE TABLE IF NOT EXISTS step_results (
  step_key TEXT PRIMARY KEY,
  result TEXT NOT NULL,
  completed_at INTEGER NOT NULL
);

-- API tokens (only a hash of each secret); a name identifies one live token.
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Access lists and disabled users, changed at run time.
CREATE TABLE IF NOT EXISTS access_grants (
  server TEXT NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  added_by TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (server, kind, value)
);
CREATE TABLE IF NOT EXISTS disabled_users (
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  disabled_at INTEGER NOT NULL,
  disabled_by TEXT NOT NULL,
  reason TEXT,
  PRIMARY KEY (tenant, subject)
);

-- Runs started through a gateway, so any gateway can re-attach a caller to theirs.
CREATE TABLE IF NOT EXISTS gateway_runs (
  workflow_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  tool TEXT NOT NULL,
  arguments_digest TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  handed_back_at INTEGER,
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS gateway_runs_awaiting ON gateway_runs (tenant, subject, tool, arguments_digest, delivered_at);
CREATE INDEX IF NOT EXISTS gateway_runs_by_user ON gateway_runs (tenant, subject, created_at);

-- Browser sessions of the consent pages (hashes of cookie values only) and sign-ins in flight.
CREATE TABLE IF NOT EXISTS browser_sessions (
  binding TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  email TEXT,
  name TEXT,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS browser_sign_ins (
  state TEXT PRIMARY KEY,
  cookie_binding TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  nonce TEXT NOT NULL,
  return_to TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

-- What 2025-era MCP clients declared at initialize, per user and client.
CREATE TABLE IF NOT EXISTS mcp_legacy_clients (
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  client_key TEXT NOT NULL,
  url_elicitation INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, subject, client_key)
);
`,
  },
  {
    version: 2,
    name: "users' schedules and the runs they started (core/schedules/schedule-store.ts)",
    sql: `
-- Whose each schedule is (the Temporal schedule id is the id); the worker accepts a schedule's identity
-- only while its row is here. No secret: the signed identity lives only in the Temporal schedule.
CREATE TABLE IF NOT EXISTS baton_schedules (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  tool TEXT NOT NULL,
  arguments TEXT NOT NULL,
  timing TEXT NOT NULL,
  note TEXT,
  workflow_id_prefix TEXT NOT NULL,
  identity_expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS baton_schedules_by_owner ON baton_schedules (tenant, subject, created_at);
-- Runs a worker verified as started by their schedule.
CREATE TABLE IF NOT EXISTS baton_scheduled_runs (
  workflow_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  schedule_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  tool TEXT NOT NULL,
  started_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS baton_scheduled_runs_by_schedule ON baton_scheduled_runs (schedule_id, started_at);
`,
  },
  {
    version: 3,
    name: 'audit trail in parallel chains, one per writer, tied together by checkpoints (core/audit/)',
    sql: {
      sqlite: `
${AUDIT_CHAINS_COMMON}
`,
      postgres: `
-- seq stays the global order of insertion, now drawn from a sequence instead of read-then-write.
CREATE SEQUENCE IF NOT EXISTS audit_events_seq OWNED BY audit_events.seq;
SELECT setval('audit_events_seq', GREATEST((SELECT MAX(seq) FROM audit_events), 0) + 1, false);
ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq');
${AUDIT_CHAINS_COMMON}
`,
    },
  },
  {
    version: 4,
    name: 'the execution each signed run identity was first used by (core/identity/identity-claims.ts)',
    sql: `
-- A run's signed identity acts in the first execution that presents it (and that execution's continue-as-new
-- successors), never in a later execution started under the same workflow id.
CREATE TABLE IF NOT EXISTS identity_claims (
  root_workflow_id TEXT PRIMARY KEY,
  first_run_id TEXT NOT NULL,
  claimed_at INTEGER NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'indexes for the sweeps of expired sign-ins, sessions and consent requests',
    sql: `
-- Every anonymous visit to a consent link starts a sign-in, and each start clears the expired ones: by index.
CREATE INDEX IF NOT EXISTS browser_sign_ins_expiry ON browser_sign_ins (expires_at);
CREATE INDEX IF NOT EXISTS browser_sessions_expiry ON browser_sessions (expires_at);
-- Pending consent requests nobody finished are expired by age (ConsentStore.expireStale).
CREATE INDEX IF NOT EXISTS consent_requests_pending_age ON consent_requests (status, created_at);
`,
  },
];

/** The schema version this build of Baton writes. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** The database was migrated by a newer Baton than this one: refuse rather than write to a schema we do not know. */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/**
 * Applies the migrations `db` lacks, oldest first, each recorded in `schema_migrations` (version, name,
 * applied_at) in the same transaction as its DDL. Resolves to the versions it applied.
 */
export function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS, now: () => number = Date.now): Promise<number[]> {
  return db.transaction(
    async (tx) => {
      await tx.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at INTEGER NOT NULL
      )`);
      const applied = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => Number(row.version)));
      const known = migrations.at(-1)?.version ?? 0;
      const newest = Math.max(0, ...applied);
      if (newest > known) {
        throw new SchemaTooNewError(`the database's schema is at version ${newest}, but this Baton knows migrations up to ${known} only; run the Baton version that migrated it (or a newer one)`);
      }
      const done: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        const sql = typeof migration.sql === 'string' ? migration.sql : migration.sql[db.dialect];
        // One statement at a time: a transaction's statements go through the extended protocol, one each.
        for (const statement of splitSqlStatements(sql)) await tx.run(statement);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', migration.version, migration.name, now());
        done.push(migration.version);
      }
      return done;
    },
    { lock: 'baton.migrations' },
  );
}
