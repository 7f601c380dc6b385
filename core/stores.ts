import { join } from 'node:path';
import { AuditLog } from './audit/audit-log.ts';
import type { BatonSettings } from './config/settings.ts';
import { ConsentStore } from './consent/consent-store.ts';
import { openDatabase, type SqlDatabase } from './db.ts';
import { StepStore } from './steps/step-store.ts';
import { loadVaultKey, loadVaultKeyring, Vault } from './vault/index.ts';

export interface BatonStores {
  db: SqlDatabase;
  vault: Vault;
  consents: ConsentStore;
  audit: AuditLog;
  steps: StepStore;
}

/** The key of the audit chain (BATON_AUDIT_KEY; in development a file under BATON_HOME). */
export function loadAuditKey(settings: BatonSettings, env: NodeJS.ProcessEnv = process.env) {
  return loadVaultKey({ env, devKeyFile: join(settings.home, 'audit.key'), variable: 'BATON_AUDIT_KEY' });
}

/** The development vault key file (used when BATON_VAULT_KEY is not set). */
export function vaultKeyFile(settings: BatonSettings): string {
  return join(settings.home, 'vault.key');
}

/**
 * Opens the configured database (SQLite, or PostgreSQL with BATON_DATABASE_URL) and every store on it.
 * Throws at once (before any work is accepted) when the database cannot be reached, or when the vault key
 * does not match the database, with a message that says which key is expected.
 */
export function openStores(settings: BatonSettings, env: NodeJS.ProcessEnv = process.env): BatonStores {
  const db = openDatabase(settings);
  try {
    const vault = Vault.open(db, loadVaultKeyring({ env, devKeyFile: vaultKeyFile(settings) }));
    return { db, vault, consents: new ConsentStore(db), audit: new AuditLog(db, loadAuditKey(settings, env).bytes), steps: new StepStore(db) };
  } catch (error) {
    db.close();
    throw error;
  }
}
