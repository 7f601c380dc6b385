import { join } from 'node:path';
import { AuditLog } from './audit/audit-log.ts';
import type { BatonSettings } from './config/settings.ts';
import { ConsentStore } from './consent/consent-store.ts';
import { openSqlite, type SqlDatabase } from './db.ts';
import { StepStore } from './steps/step-store.ts';
import { loadVaultKey, Vault } from './vault/index.ts';

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

/**
 * Opens the database and every store on it. Throws at once (before any work is accepted) when the
 * vault key does not match the database, with a message that says which key is expected.
 */
export function openStores(settings: BatonSettings, env: NodeJS.ProcessEnv = process.env): BatonStores {
  const db = openSqlite(settings.databasePath);
  try {
    const vault = Vault.open(db, loadVaultKey({ env, devKeyFile: join(settings.home, 'vault.key') }));
    return { db, vault, consents: new ConsentStore(db), audit: new AuditLog(db, loadAuditKey(settings, env).bytes), steps: new StepStore(db) };
  } catch (error) {
    db.close();
    throw error;
  }
}
