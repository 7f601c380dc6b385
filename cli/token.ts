/**
 * `baton token <user>`: prints a bearer token for Baton's MCP endpoint and nothing else on stdout, for
 * scripts. It signs in at the identity provider the way an MCP client does (authorization code + PKCE,
 * `resource` = the MCP endpoint), answering the sign-in form itself: development IdPs only.
 */
import { parseArgs } from 'node:util';
import { signInOverHttp } from '../sandbox/idp/headless-login.ts';
import { cliClient } from '../sandbox/server.ts';

const { positionals, values } = parseArgs({
  args: process.argv.slice(3),
  allowPositionals: true,
  options: { password: { type: 'string' }, scope: { type: 'string', default: 'openid profile email mcp:tools' } },
});
const [user] = positionals;
if (!user) {
  console.error('usage: baton token <user> [--password <password>] [--scope "<scopes>"]\n  e.g. npx baton token alice   (sandbox users alice and bob; password = user name)');
  process.exit(2);
}
const issuer = process.env.BATON_IDP_ISSUER ?? `http://127.0.0.1:${process.env.SANDBOX_PORT ?? 9100}/idp`;
const resource = `${process.env.BATON_PUBLIC_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`}/mcp`;
try {
  const { accessToken } = await signInOverHttp({
    issuer,
    clientId: cliClient.clientId,
    redirectUri: cliClient.redirectUri,
    resource,
    scope: values.scope,
    username: user,
    password: values.password ?? user,
  });
  process.stdout.write(`${accessToken}\n`);
} catch (error) {
  const reason = (error as Error).message;
  const hint = /fetch failed|ECONNREFUSED/.test(`${reason} ${String((error as Error).cause)}`) ? ` Is Baton running? Start it with \`npm start\` (the identity provider is expected at ${issuer}).` : '';
  console.error(`baton token: could not get a token for ${user}: ${reason}.${hint}`);
  process.exit(1);
}
