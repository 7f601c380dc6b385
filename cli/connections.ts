/**
 * `baton connections list --user <subject> [--tenant <tenant>]` and
 * `baton connections revoke --user <subject> --app <app> [--tenant <tenant>]`: an operator's view of a
 * user's app connections, and disconnecting one for them (revoked at the app too, like the user's own
 * "Disconnect"). Opens the database and vault directly; the audit trail names the operating-system user.
 */
import { pino } from 'pino';
import { parseCommandLine } from './command-line.ts';
import { loadSettings } from '../core/config/settings.ts';
import { openStores } from '../core/stores.ts';
import { operatorActor } from '../gateway/audit/actor.ts';
import { ConnectionRevocation } from '../gateway/connections/connection-revocation.ts';

const usage =
  'usage: baton connections list --user <subject> [--tenant <tenant>] | baton connections revoke --user <subject> --app <app> [--tenant <tenant>]';

function fail(message: string, code = 1): void {
  console.error(`baton connections: ${message}`);
  process.exitCode = code;
}

const parsed = parseCommandLine('connections', usage, { user: { type: 'string' }, tenant: { type: 'string' }, app: { type: 'string' } });

if (parsed) {
  const { positionals, values } = parsed;
  const [action] = positionals;
  const tenant = values.tenant ?? process.env.BATON_DEFAULT_TENANT ?? 'default';
  if (!values.user || (action !== 'list' && action !== 'revoke') || (action === 'revoke' && !values.app)) {
    fail(usage, 2);
  } else {
    const settings = loadSettings();
    const stores = openStores(settings);
    try {
      const user = { tenant, subject: values.user };
      if (action === 'list') {
        const connections = stores.vault.listConnections(tenant, values.user);
        if (connections.length === 0) console.log(`${values.user} (tenant ${tenant}) has no app connections.`);
        for (const connection of connections) {
          const used = connection.lastUsedAt === null ? 'never' : new Date(connection.lastUsedAt).toISOString();
          console.log(
            `${connection.app.padEnd(10)} ${connection.status.padEnd(16)} as ${connection.externalLogin || '-'}  scopes=${connection.scopes.join(',') || '-'}  connected=${new Date(connection.createdAt).toISOString()}  last-used=${used}`,
          );
        }
      } else {
        const app = values.app!;
        const revocation = new ConnectionRevocation({ settings, stores, log: pino({ level: 'silent' }) });
        const result = await revocation.revoke(user, app, operatorActor(tenant));
        if (!result.revoked) fail(`${values.user} (tenant ${tenant}) has no ${app} connection; see \`baton connections list --user ${values.user}\`.`);
        else if (result.revokedAtProvider) {
          console.log(`Revoked ${values.user}'s ${app} connection: deleted from Baton and revoked at ${app}. Runs that need it will ask ${values.user} to connect again.`);
        } else {
          console.log(`Deleted ${values.user}'s ${app} connection from Baton; ${app} did not confirm the revocation (${result.providerError}). Runs that need it will ask ${values.user} to connect again.`);
        }
      }
    } finally {
      stores.db.close();
    }
  }
}
