/**
 * `baton access list <server> | add <server> <user|group|api_token> <value> | remove <server> <kind> <value>`:
 * run-time access-list entries, on top of the configuration file's. Effective on the next call.
 */
import { loadSettings } from '../core/config/settings.ts';
import { openDatabase } from '../core/db.ts';
import { AccessGrants, type GrantKind } from '../gateway/access/access-grants.ts';
import { AccessPolicy } from '../gateway/access/access-policy.ts';
import { operatorChanges } from './operator-audit.ts';

const usage = 'usage: baton access list <server> | baton access add <server> <user|group|api_token> <value> | baton access remove <server> <user|group|api_token> <value>';
const kinds: readonly GrantKind[] = ['user', 'group', 'api_token'];
const configKey = { user: 'users', group: 'groups', api_token: 'apiTokens' } as const;

const [action, server, kind, value] = process.argv.slice(3);
const settings = loadSettings();
const db = openDatabase(settings);
const grants = new AccessGrants(db);
const policy = new AccessPolicy(settings.config, grants);
const who = process.env.USER ?? 'cli';
const changed = operatorChanges(settings, db);

function fail(message: string, code = 1): void {
  console.error(`baton access: ${message}`);
  process.exitCode = code;
}

if (!action || !server) fail(usage, 2);
else if (!policy.server(server)) fail(`there is no MCP server "${server}" in ${settings.configFile ?? 'the configuration'}; servers: ${policy.servers().join(', ')}.`);
else if (action === 'list') {
  const list = policy.accessList(server);
  console.log(`${server}: users ${list.users.join(', ') || '-'}; groups ${list.groups.join(', ') || '-'}; api tokens ${list.apiTokens.join(', ') || '-'}`);
  for (const grant of grants.forList(server)) console.log(`  ${grant.kind} ${grant.value} (added by ${grant.addedBy} at ${new Date(grant.addedAt).toISOString()})`);
} else if ((action === 'add' || action === 'remove') && kinds.includes(kind as GrantKind) && value) {
  const grantKind = kind as GrantKind;
  if (action === 'add') {
    if (grants.add({ server, kind: grantKind, value, addedBy: who })) {
      changed('access.grant', { list: server, kind: grantKind, value });
      console.log(`Added ${kind} ${value} to ${server}; effective on the next call.`);
    } else console.log(`${kind} ${value} was already on ${server}'s list.`);
  } else if (grants.remove(server, grantKind, value)) {
    changed('access.revoke', { list: server, kind: grantKind, value });
    console.log(`Removed ${kind} ${value} from ${server}; effective on the next call.`);
  } else if (policy.server(server)!.access[configKey[grantKind]].includes(value)) {
    fail(`${kind} ${value} is granted by ${settings.configFile} (servers.${server}.access.${configKey[grantKind]}); remove it there.`);
  } else fail(`${kind} ${value} is not on ${server}'s list.`);
} else fail(usage, 2);
db.close();
