/**
 * `baton users disable <subject> [--tenant <tenant>] [--reason <why>]`, `baton users enable <subject>
 * [--tenant <tenant>]`, `baton users list`: disabling a user refuses their calls at every gateway from the
 * next request on and cancels their in-flight runs through Temporal (settings.temporal).
 */
import { Client } from '@temporalio/client';
import { AuditLog } from '../core/audit/audit-log.ts';
import { parseCommandLine } from './command-line.ts';
import { loadSettings } from '../core/config/settings.ts';
import { openDatabase } from '../core/db.ts';
import { loadAuditKey } from '../core/stores.ts';
import { connectTemporalClient } from '../core/temporal/connect.ts';
import { DisabledUsers } from '../core/access/disabled-users.ts';
import { UserDisabling } from '../gateway/access/user-disabling.ts';
import { operatorActor } from '../gateway/audit/actor.ts';
import { RunRegistry } from '../core/runs/run-registry.ts';
import { BrowserSessions } from '../core/sessions/browser-sessions.ts';

const usage = 'usage: baton users disable <subject> [--tenant <tenant>] [--reason <why>] | baton users enable <subject> [--tenant <tenant>] | baton users list';

function fail(message: string, code = 1): void {
  console.error(`baton users: ${message}`);
  process.exitCode = code;
}

const parsed = parseCommandLine('users', usage, { tenant: { type: 'string' }, reason: { type: 'string' } });

const { positionals, values } = parsed;
const [action, subject] = positionals;
const tenant = values.tenant ?? process.env.BATON_DEFAULT_TENANT ?? 'default';
if (action === 'list') {
  const settings = loadSettings();
  const db = await openDatabase(settings);
  try {
    const disabled = await new DisabledUsers(db).list(values.tenant);
    if (disabled.length === 0) console.log('No disabled users.');
    for (const user of disabled) {
      console.log(`${user.subject.padEnd(24)} tenant=${user.tenant}  disabled=${new Date(user.disabledAt).toISOString()} by ${user.disabledBy}${user.reason ? `  reason: ${user.reason}` : ''}`);
    }
  } finally {
    await db.close();
  }
} else if ((action === 'disable' || action === 'enable') && subject) {
  const settings = loadSettings();
  const db = await openDatabase(settings);
  const user = { tenant, subject };
  const connection = action === 'disable' ? await connectTemporalClient(settings.temporal).catch((error: Error) => error) : null;
  const audit = new AuditLog(db, loadAuditKey(settings).bytes);
  try {
    if (connection instanceof Error) {
      fail(`cannot use Temporal to cancel ${subject}'s runs, so nothing was changed: ${connection.message}`);
    } else {
      const disabledUsers = new DisabledUsers(db);
      const disabling = new UserDisabling({
        disabledUsers,
        runs: new RunRegistry(db),
        // Only cancels runs: no identity to carry, so a plain client.
        client: new Client({ connection: connection ?? undefined, namespace: settings.temporal.namespace }),
        audit,
        sessions: new BrowserSessions(db),
      });
      if (action === 'disable') {
        const result = await disabling.disable(user, operatorActor(tenant), values.reason ?? null);
        console.log(
          `${result.newlyDisabled ? 'Disabled' : 'Already disabled:'} ${subject} (tenant ${tenant}); their calls are refused from the next request on. Cancelled ${result.cancelledRuns.length} in-flight run(s)${result.cancelledRuns.length ? `: ${result.cancelledRuns.join(', ')}` : ''}.`,
        );
        for (const failed of result.failedRuns) fail(`could not cancel run ${failed.workflowId}: ${failed.error}`);
      } else if (await disabling.enable(user, operatorActor(tenant))) {
        console.log(`Enabled ${subject} (tenant ${tenant}) again.`);
      } else {
        fail(`${subject} (tenant ${tenant}) is not disabled; see \`baton users list\`.`);
      }
    }
  } finally {
    if (connection && !(connection instanceof Error)) await connection.close();
    await audit.close();
    await db.close();
  }
} else fail(usage, 2);
