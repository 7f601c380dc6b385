#!/usr/bin/env node
// `baton <command>`: Baton's processes and admin commands. In a checkout Node 24 runs the TypeScript sources
// directly; installed as a package (under node_modules, where Node will not strip types) the build in dist/.
import { fileURLToPath } from 'node:url';

const installed = fileURLToPath(import.meta.url)
  .split(/[\\/]/)
  .includes('node_modules');
const commands = {
  gateway: ['../gateway/main.ts', 'serve MCP, the consent pages and health checks'],
  worker: ['../worker/main.ts', "run Baton's workflows and activities"],
  dev: ['../scripts/dev.ts', "everything in one on loopback for this folder's baton.yaml (what `npm start` runs): Temporal, sandbox apps, worker, gateway; reloads on tool changes"],
  init: ['../cli/init.ts', 'create a project for your own tools: baton init my-tools'],
  token: ['../cli/token.ts', 'print a bearer token for a sandbox user: baton token alice'],
  'api-token': ['../cli/api-token.ts', 'create, list or revoke API tokens for service callers'],
  access: ['../cli/access.ts', 'list, add or remove who may use an MCP server'],
  audit: ['../cli/audit.ts', 'query, export or verify the audit trail; who made a change'],
  connections: ['../cli/connections.ts', 'list or revoke your app connections (or, with --user, an operator for a user)'],
  runs: ['../cli/runs.ts', 'your runs: status, what they wait for, their steps (baton runs show <id>)'],
  users: ['../cli/users.ts', 'disable or enable a user (disabling cancels their runs): baton users disable alice'],
  upstreams: ['../cli/upstreams.ts', 'the upstream MCP servers: reachable, tools cached, last error (admin)'],
  keys: ['../cli/keys.ts', 'rotate the vault or identity key online: baton keys rotate-vault | rotate-identity | retire-identity <kid> | status'],
};
const [command] = process.argv.slice(2);
const usage = `usage: baton <command>\n${Object.entries(commands)
  .map(([name, [, what]]) => `  ${name.padEnd(12)} ${what}`)
  .join('\n')}`;
if (command === 'help' || command === '--help' || command === '-h') {
  console.log(usage);
  process.exit(0);
}
// Own keys only: `in` or a plain lookup would also find Object.prototype's (`toString`, `constructor`, `__proto__`).
if (command === undefined || !Object.hasOwn(commands, command)) {
  console.error(`${command === undefined ? 'baton: no command given.' : `baton: unknown command "${command}".`}\n${usage}`);
  process.exit(2);
}
const [source] = commands[command];
await import(new URL(installed ? source.replace(/^\.\.\//, '../dist/').replace(/\.ts$/, '.js') : source, import.meta.url).href);
