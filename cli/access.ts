/**
 * `baton access list <server> | add <server> <user|group|api_token> <value> | remove <server> <kind> <value>`:
 * run-time access-list entries, on top of the configuration file's. Effective on the next call.
 */
import { loadSettings } from '../core/config/settings.ts';
import { openDatabase } from '../core/db.ts';
import { AccessGrants, type GrantKind } from '../core/access/access-grants.ts';
import { AccessPolicy } from '../gateway/access/access-policy.ts';
import { operatorChanges } from './operator-audit.ts';

const usage = 'usage: baton access list <server> | baton access add <server> <user|group|api_token> <value> | baton access remove <server> <user|group|api_token> <value>';
const kinds: readonly GrantKind[] = ['user', 'group', 'api_token'];
const configKey = { user: 'users', group: 'groups', api_token: 'apiTokens' } as const;

const [action, server, kind, value] = process.argv.slice(3);
const settings = loadSettings();
const db = await openDatabase(settings);
const grants = new AccessGrants(db);
const policy = new AccessPolicy(settings.config, grants);
const who = process.env.USER ?? 'cli';
const changes = operatorChanges(settings, db);

function fail(message: string, code = 1): void {
  console.error(`baton access: ${message}`);
  process.exitCode = code;
}

try {
  if (!action || !server) fail(usage, 2);
  else if (!policy.server(server)) fail(`there is no MCP server "${server}" in ${settings.configFile ?? 'the configuration'}; servers: ${policy.servers().join(', ')}.`);
  else if (action === 'list') {
    const list = await policy.accessList(server);
    console.log(`${server}: users ${list.users.join(', ') || '-'}; groups ${list.groups.join(', ') || '-'}; api tokens ${list.apiTokens.join(', ') || '-'}`);
    for (const grant of await grants.forList(server)) console.log(`  ${grant.kind} ${grant.value} (added by ${grant.addedBy} at ${new Date(grant.addedAt).toISOString()})`);
  } else if ((action === 'add' || action === 'remove') && kinds.includes(kind as GrantKind) && value) {
    const grantKind = kind as GrantKind;
    if (action === 'add') {
      if (await grants.add({ server, kind: grantKind, value, addedBy: who })) {
        await changes.record('access.grant', { list: server, kind: grantKind, value });
        console.log(`Added ${kind} ${value} to ${server}; effective on the next call.`);
      } else console.log(`${kind} ${value} was already on ${server}'s list.`);
    } else if (await grants.remove(server, grantKind, value)) {
      await changes.record('access.revoke', { list: server, kind: grantKind, value });
      console.log(`Removed ${kind} ${value} from ${server}; effective on the next call.`);
    } else if (policy.server(server)!.access[configKey[grantKind]].includes(value)) {
      fail(`${kind} ${value} is granted by ${settings.configFile} (servers.${server}.access.${configKey[grantKind]}); remove it there.`);
    } else fail(`${kind} ${value} is not on ${server}'s list.`);
  } else fail(usage, 2);
} finally {
  await changes.close();
  await db.close();
}
