import { AuditLog } from '../../core/audit/audit-log.ts';
import type { BatonSettings } from '../../core/config/settings.ts';
import { openDatabase } from '../../core/db.ts';
import { loadAuditKey } from '../../core/stores.ts';

export interface AuditProbe {
  /** Stops appending; resolves with every append's latency (ms). */
  stop(): Promise<number[]>;
}

/**
 * Appends an audit record every `everyMs` from a process of its own (this one, with a connection of its
 * own to the stack's database and its own chain), timing each append from `record()` to stored, while the
 * load runs: what an app call's audit record costs when the fleet is busy.
 */
export async function startAuditProbe(settings: BatonSettings, everyMs = 20): Promise<AuditProbe> {
  const db = await openDatabase(settings);
  const log = new AuditLog(db, loadAuditKey(settings).bytes);
  const samples: number[] = [];
  let running = true;
  const actor = { tenant: 'acme', subject: 'bench-probe', email: null, name: null, authMethod: 'cli' };
  const loop = (async () => {
    for (let i = 0; running; i += 1) {
      const started = performance.now();
      await log.record({ kind: 'admin.change', outcome: 'ok', actor, action: 'bench.audit_probe', detail: { i } });
      samples.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await log.close();
      await db.close();
      return samples;
    },
  };
}
