/**
 * `baton connections list` / `baton connections revoke --app <app>`: your own app connections, through the
 * gateway's API with your token (BATON_TOKEN or --token) — you see and revoke only yours.
 * `baton connections list --user <subject> [--tenant <tenant>]` / `revoke --user <subject> --app <app>`: an
 * operator on the server acting for a user (the database and vault directly; the audit trail names the
 * operating-system user). Either way a revocation is also sent to the app, and runs that need the app
 * ask the user to connect again.
 */
import { pino } from 'pino';
import { loadSettings } from '../core/config/settings.ts';
import { openStores } from '../core/stores.ts';
import { operatorActor } from '../gateway/audit/actor.ts';
import { ConnectionRevocation } from '../gateway/connections/connection-revocation.ts';
import { parseCommandLine } from './command-line.ts';
import { apiOptions, callGateway, GatewayApiError } from './gateway-api.ts';

const usage = `usage: baton connections list | baton connections revoke --app <app>          (yours, with BATON_TOKEN or --token)
       baton connections list --user <subject> [--tenant <tenant>] | baton connections revoke --user <subject> --app <app> [--tenant <tenant>]   (operator)`;

interface ListedConnection {
  app: string;
  status: string;
  externalLogin: string;
  scopes: string[];
  connectedAt: string;
  lastUsedAt: string | null;
}

function fail(message: string, code = 1): void {
  console.error(`baton connections: ${message}`);
  process.exitCode = code;
}

const line = (connection: ListedConnection) =>
  `${connection.app.padEnd(10)} ${connection.status.padEnd(16)} as ${connection.externalLogin || '-'}  scopes=${connection.scopes.join(',') || '-'}  connected=${connection.connectedAt}  last-used=${connection.lastUsedAt ?? 'never'}`;

const revokedMessage = (who: string, app: string, result: { revokedAtProvider: boolean; providerError: string | null }) =>
  result.revokedAtProvider
    ? `Revoked ${who} ${app} connection: deleted from Baton and revoked at ${app}. Runs that need it will ask to connect again.`
    : `Deleted ${who} ${app} connection from Baton; ${app} did not confirm the revocation (${result.providerError}). Runs that need it will ask to connect again.`;

/** As the token's owner, through the API. */
async function asUser(action: string, app: string | undefined, api: { url?: string; token?: string }): Promise<void> {
  if (action === 'list') {
    const { connections } = (await (await callGateway(api, '/api/connections')).json()) as { connections: ListedConnection[] };
    console.log(connections.length ? connections.map(line).join('\n') : 'You have no app connections.');
  } else {
    const result = (await (await callGateway(api, `/api/connections/${encodeURIComponent(app!)}`, { method: 'DELETE' })).json()) as { revokedAtProvider: boolean; providerError: string | null };
    console.log(revokedMessage('your', app!, result));
  }
}

/** As an operator with the server's database and keys. */
async function asOperator(action: string, user: { tenant: string; subject: string }, app: string | undefined): Promise<void> {
  const settings = loadSettings();
  const stores = await openStores(settings);
  try {
    if (action === 'list') {
      const connections = await stores.vault.listConnections(user.tenant, user.subject);
      if (connections.length === 0) console.log(`${user.subject} (tenant ${user.tenant}) has no app connections.`);
      for (const connection of connections) {
        console.log(
          line({ ...connection, connectedAt: new Date(connection.createdAt).toISOString(), lastUsedAt: connection.lastUsedAt === null ? null : new Date(connection.lastUsedAt).toISOString() }),
        );
      }
      return;
    }
    const revocation = new ConnectionRevocation({ settings, stores, log: pino({ level: 'silent' }) });
    const result = await revocation.revoke(user, app!, operatorActor(user.tenant));
    if (!result.revoked) fail(`${user.subject} (tenant ${user.tenant}) has no ${app} connection; see \`baton connections list --user ${user.subject}\`.`);
    else console.log(revokedMessage(`${user.subject}'s`, app!, result));
  } finally {
    await stores.close();
  }
}

const { positionals, values } = parseCommandLine('connections', usage, { user: { type: 'string' }, tenant: { type: 'string' }, app: { type: 'string' }, ...apiOptions });
const [action = ''] = positionals;
if ((action !== 'list' && action !== 'revoke') || (action === 'revoke' && !values.app)) {
  fail(usage, 2);
} else if (values.user) {
  await asOperator(action, { tenant: values.tenant ?? process.env.BATON_DEFAULT_TENANT ?? 'default', subject: values.user }, values.app);
} else {
  try {
    await asUser(action, values.app, { url: values.url, token: values.token });
  } catch (error) {
    if (!(error instanceof GatewayApiError)) throw error;
    fail(error.message);
  }
}
