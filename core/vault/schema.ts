import type { SqlDatabase } from '../db.ts';

// Portable DDL (SQLite and PostgreSQL): TEXT/INTEGER only, times as epoch milliseconds.
// Secrets live only in the `sealed_secret` columns; everything else is metadata the UI may show.
const VAULT_TABLES = `
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
`;

export function createVaultTables(db: SqlDatabase): void {
  db.exec(VAULT_TABLES);
}
