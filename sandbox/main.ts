import { randomBytes } from 'node:crypto';
import { startSandbox } from './server.ts';

/**
 * Runs the sandbox on its own: `node sandbox/main.ts`. Credentials not given in the environment are
 * generated, and then printed on stderr so a person can configure a client against them.
 */
const generated: Record<string, string> = {};
const setting = (name: string, make: () => string): string => {
  const value = process.env[name];
  if (value) return value;
  generated[name] = make();
  return generated[name];
};
const secret = () => randomBytes(24).toString('base64url');
const clientId = (app: string) => () => `sandbox-${app}-${randomBytes(6).toString('hex')}`;

const sandbox = await startSandbox({
  port: Number(process.env.SANDBOX_PORT ?? 0),
  clients: {
    github: { clientId: setting('SANDBOX_GITHUB_CLIENT_ID', clientId('github')), clientSecret: setting('SANDBOX_GITHUB_CLIENT_SECRET', secret) },
    slack: { clientId: setting('SANDBOX_SLACK_CLIENT_ID', clientId('slack')), clientSecret: setting('SANDBOX_SLACK_CLIENT_SECRET', secret) },
  },
  jiraServiceAccount: {
    email: setting('SANDBOX_JIRA_EMAIL', () => 'baton-service@example.com'),
    apiToken: setting('SANDBOX_JIRA_API_TOKEN', secret),
  },
});

if (Object.keys(generated).length > 0) console.error(`sandbox generated credentials: ${JSON.stringify(generated)}`);
// The CRM's credentials are always generated (also at GET /_sandbox/crm).
console.error(`sandbox CRM credentials: ${JSON.stringify(sandbox.crm)}`);
// The upstream MCP servers: notes signs users in at its own authorization server; status takes the key.
console.error(`sandbox notes MCP server: ${sandbox.notesMcpUrl} (authorization server ${sandbox.notesIssuer})`);
console.error(`sandbox status MCP server: ${sandbox.statusMcpUrl} (X-Api-Key: ${sandbox.statusApiKey})`);
console.log(`sandbox ready ${sandbox.url}`);

let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  sandbox.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
