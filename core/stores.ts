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
  /** Closes the audit log (its writer's chain), then the database. */
  close(): Promise<void>;
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
 * Rejects at once (before any work is accepted) when the database cannot be reached, or when the vault key
 * does not match the database, with a message that says which key is expected.
 */
export async function openStores(settings: BatonSettings, env: NodeJS.ProcessEnv = process.env): Promise<BatonStores> {
  const db = await openDatabase(settings);
  try {
    const vault = await Vault.open(db, loadVaultKeyring({ env, devKeyFile: vaultKeyFile(settings) }));
    const audit = new AuditLog(db, loadAuditKey(settings, env).bytes, {
      checkpointEveryMs: settings.auditCheckpointEveryMs,
      onCheckpointError: (error) => console.warn(`baton: could not write an audit checkpoint (the next one tries again): ${(error as Error).message}`),
    });
    let closing: Promise<void> | undefined;
    return {
      db,
      vault,
      consents: new ConsentStore(db),
      audit,
      steps: new StepStore(db),
      close() {
        // Once: a second call (a shutdown path and a finally, say) waits for the first.
        closing ??= (async () => {
          try {
            await audit.close();
          } finally {
            await db.close();
          }
        })();
        return closing;
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
