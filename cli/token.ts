/**
 * `baton token <user>`: prints a bearer token for Baton's MCP endpoint and nothing else on stdout, for
 * scripts. Development identity providers only: it answers the sign-in form itself. The token is for the
 * Baton this project directory is running (see devEndpoints); stderr says so when it had to assume one.
 */
import { parseArgs } from 'node:util';
import { devToken } from './dev-token.ts';

const { positionals, values } = parseArgs({
  args: process.argv.slice(3),
  allowPositionals: true,
  options: { password: { type: 'string' }, scope: { type: 'string' } },
});
const [user] = positionals;
if (!user) {
  console.error('usage: baton token <user> [--password <password>] [--scope "<scopes>"]\n  e.g. npx baton token alice   (sandbox users alice and bob; password = user name)');
  process.exit(2);
}
try {
  process.stdout.write(`${await devToken(user, { password: values.password, scope: values.scope, onNote: (note) => console.error(`baton token: ${note}`) })}\n`);
} catch (error) {
  console.error(`baton token: ${(error as Error).message}`);
  process.exit(1);
}
