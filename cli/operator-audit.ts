import { AuditLog } from '../core/audit/audit-log.ts';
import type { BatonSettings } from '../core/config/settings.ts';
import type { SqlDatabase } from '../core/db.ts';
import { loadAuditKey } from '../core/stores.ts';
import { operatorActor } from '../gateway/audit/actor.ts';

export interface OperatorChanges {
  /** Records one change; resolves once it is stored. */
  record(action: string, detail: Record<string, string>): Promise<void>;
  /** Closes the command's audit chain (before the database is closed). */
  close(): Promise<void>;
}

/**
 * Admin changes made with `baton …` on the server go to the same audit trail as the admin API's, named
 * after the operating-system user who ran the command.
 */
export function operatorChanges(settings: BatonSettings, db: SqlDatabase, tenant = 'default'): OperatorChanges {
  const audit = new AuditLog(db, loadAuditKey(settings).bytes);
  return {
    record: async (action, detail) => void (await audit.record({ kind: 'admin.change', outcome: 'ok', actor: operatorActor(tenant), action, detail })),
    close: () => audit.close(),
  };
}
