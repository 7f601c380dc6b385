/** `baton api-token create <name> | list | revoke <name-or-id>`: API tokens for service callers (CI, scripts). */
import { parseArgs } from 'node:util';
import { loadSettings } from '../core/config/settings.ts';
import { openDatabase } from '../core/db.ts';
import { ApiTokenError, ApiTokenStore, generateApiToken } from '../core/api-tokens/api-token-store.ts';
import { operatorChanges } from './operator-audit.ts';

const usage = 'usage: baton api-token create <name> [--tenant <tenant>] | baton api-token list | baton api-token revoke <name-or-id> | baton api-token generate';
const { positionals, values } = parseArgs({ args: process.argv.slice(3), allowPositionals: true, options: { tenant: { type: 'string' } } });
const [action, target] = positionals;
const settings = loadSettings();
const db = await openDatabase(settings);
const tokens = new ApiTokenStore(db);
const changes = operatorChanges(settings, db, values.tenant);
try {
  if (action === 'generate') {
    console.error("A new token, not stored anywhere: put it where baton.yaml's apiTokens entry points (env: or file:).");
    process.stdout.write(`${generateApiToken().token}\n`);
  } else if (action === 'create' && target) {
    const created = await tokens.create(target, { tenant: values.tenant });
    await changes.record('api_token.create', { name: created.name });
    console.error(`Created API token "${created.name}" (id ${created.id}). It is shown once; store it now:`);
    process.stdout.write(`${created.token}\n`);
  } else if (action === 'list') {
    const rows = await tokens.list();
    if (rows.length === 0) console.log('No API tokens. Create one with: baton api-token create <name>');
    for (const row of rows) {
      const state = row.revokedAt ? `revoked ${new Date(row.revokedAt).toISOString()}` : 'active';
      const used = row.lastUsedAt ? new Date(row.lastUsedAt).toISOString() : 'never';
      console.log(`${row.id}  ${row.name.padEnd(24)} tenant=${row.tenant}  created=${new Date(row.createdAt).toISOString()}  last-used=${used}  ${state}`);
    }
  } else if (action === 'revoke' && target) {
    if (!(await tokens.revoke(target))) throw new ApiTokenError(`No active API token is named or numbered "${target}"; see \`baton api-token list\`.`);
    await changes.record('api_token.revoke', { name: target });
    console.log(`Revoked "${target}": callers using it now get 401.`);
  } else {
    console.error(usage);
    process.exitCode = 2;
  }
} catch (error) {
  if (!(error instanceof ApiTokenError)) throw error;
  console.error(`baton api-token: ${error.message}`);
  process.exitCode = 1;
} finally {
  await changes.close();
  await db.close();
}
