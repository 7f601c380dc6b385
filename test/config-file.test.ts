/** baton.yaml: validated at start; every problem names the file, the line, the path and what is wrong; nothing half-starts. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseConfig } from '../core/config/file/load-config.ts';
import { loadSettings } from '../core/config/settings.ts';
import { createLogger } from '../gateway/logger.ts';
import { serveGateway } from '../gateway/serve.ts';
import { z } from 'zod';
import { tools } from '../workflows/catalog.ts';
import { defineTool } from '../workflows/sdk/index.ts';
import { UpstreamCatalogue } from '../core/upstreams/upstream-catalogue.ts';
import { UpstreamClients } from '../core/upstreams/upstream-client.ts';
import { UpstreamTools } from '../gateway/upstreams/upstream-tools.ts';
import { freePort } from './support/gateway-stack.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-config-'));
const fileWith = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const problemIn = (text: string) => {
  try {
    parseConfig(text, 'baton.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

test('an unknown credential mode is reported at its line with the modes there are', () => {
  expect(problemIn('apps:\n  github:\n    credential:\n      mode: magic\n')).toBe(
    'baton.yaml has a problem:\n  baton.yaml:4:7  apps.github.credential.mode: unknown credential mode: use user_oauth, service_account, client_credentials, api_key, bearer, basic, none, passthrough or token_exchange',
  );
});

test('a literal secret is refused: secrets are references', () => {
  expect(problemIn('apps:\n  jira:\n    credential: { mode: bearer, token: sk_live_123 }\n')).toContain(
    'baton.yaml:3:33  apps.jira.credential.token: must be a secret reference (env:NAME, file:PATH or vault:ID), never the secret itself',
  );
});

test('malformed YAML, misspelt keys and several problems at once', () => {
  expect(problemIn('apps: [unclosed')).toMatch(/^baton\.yaml is not valid YAML:\n {2}baton\.yaml:1:\d+ /);
  expect(problemIn('servers:\n  default:\n    tools: "*"\n    access: { users: [alice] }\n    colour: blue\n')).toContain('baton.yaml:5:5  servers.default: Unrecognized key: "colour"');
  const many = problemIn('apps:\n  slack:\n    credential: { mode: api_key, name: X-Key, scope: shared }\nroles:\n  bob: superuser\n');
  expect(many).toContain('has 2 problems');
  expect(many).toContain('apps.slack.credential.key: a shared API key needs "key" (a secret reference)');
  expect(many).toMatch(/baton\.yaml:5:\d+ {2}roles\.bob: /);
});

test('a secret reference that points nowhere stops start-up, naming the file and the path', () => {
  const file = fileWith('missing-secret.yaml', 'apps:\n  github:\n    oauth: { clientId: env:NO_SUCH_ID, clientSecret: env:NO_SUCH_SECRET }\n    credential: { mode: user_oauth }\n');
  expect(() => loadSettings({ BATON_CONFIG: file })).toThrow(`${file}  apps.github.oauth.clientId: environment variable NO_SUCH_ID is not set`);
});

test('the gateway does not half-start on a bad file: it says why and releases its port', async () => {
  const port = await freePort();
  const file = fileWith('bad-mode.yaml', 'apps:\n  github:\n    credential: { mode: magic }\n');
  await expect(
    serveGateway({
      env: { BATON_CONFIG: file, PORT: String(port), BATON_IDP_ISSUER: 'http://127.0.0.1:9/idp', BATON_IDP_CLIENT_ID: 'x', BATON_IDP_CLIENT_SECRET: 'y', BATON_HOME: dir },
      tools,
      log: createLogger({ level: 'silent' }),
    }),
  ).rejects.toThrow(`${file}:3:19  apps.github.credential.mode: unknown credential mode`);
  const refused = await new Promise<string>((resolve) =>
    connect(port, '127.0.0.1')
      .on('connect', () => resolve('connected'))
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error')),
  );
  expect(refused).toBe('ECONNREFUSED');
});

test('the worker refuses to start on a bad file with the same message', async () => {
  const file = fileWith('bad-yaml.yaml', 'servers: [');
  const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [fileURLToPath(new URL('../worker/main.ts', import.meta.url))],
      { env: { PATH: process.env.PATH, BATON_CONFIG: file, BATON_HOME: dir, NODE_NO_WARNINGS: '1' } },
      (error, _stdout, stderr) => resolve({ code: Number(error?.code ?? 0), stderr }),
    );
  });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`${file} is not valid YAML`);
});

describe('mcpServers (upstream MCP servers)', () => {
  test('an id with "__", a URL that is neither http(s) nor env:NAME, and a per-user tools credential are refused at their lines', () => {
    expect(problemIn('mcpServers:\n  my__notes:\n    url: https://notes.example/mcp\n    credential: { mode: none }\n')).toContain(
      'baton.yaml:2:3  mcpServers.my__notes: must not contain "__" or end with "_": "__" separates the id from the tool name',
    );
    const problems = problemIn('mcpServers:\n  other:\n    url: ftp://notes.example/mcp\n    credential: { mode: user_oauth }\n    toolsCredential: { mode: api_key, name: K, scope: individual }\n');
    expect(problems).toContain('mcpServers.other.url: must be an http(s) URL or env:NAME');
    expect(problems).toContain("mcpServers.other.toolsCredential: must be the organisation's own: none, bearer, basic, a shared api_key or client_credentials");
  });

  test('an upstream with an app’s id, or a URL from an unset variable, stops start-up naming both', () => {
    const clash = fileWith('clash.yaml', 'mcpServers:\n  github:\n    url: https://mcp.github.example/mcp\n    credential: { mode: none }\n');
    expect(() => loadSettings({ BATON_CONFIG: clash })).toThrow(`${clash}  mcpServers.github: "github" is already the id of the app "GitHub" (apps.github); give the MCP server another id`);
    const unset = fileWith('unset.yaml', 'mcpServers:\n  notes:\n    url: env:NO_SUCH_NOTES_URL\n    credential: { mode: none }\n');
    expect(() => loadSettings({ BATON_CONFIG: unset })).toThrow(`${unset}  mcpServers.notes.url: environment variable NO_SUCH_NOTES_URL is not set`);
  });

  test('a Baton tool named like an upstream’s tools stops the gateway, naming both', () => {
    const file = fileWith('tool-clash.yaml', 'mcpServers:\n  notes:\n    url: http://127.0.0.1:9/mcp\n    credential: { mode: none }\n');
    const settings = loadSettings({ BATON_CONFIG: file, BATON_HOME: dir });
    const clashing = defineTool({ name: 'notes__export', description: 'A Baton tool whose name looks like an upstream tool’s.', input: z.object({}) }, async () => ({}));
    const upstreams = (ownTools: string[]) =>
      new UpstreamTools({ settings, catalogue: new UpstreamCatalogue(new UpstreamClients()), credentials: {} as never, ownTools, log: createLogger({ level: 'silent' }) });
    expect(() => upstreams([...tools, clashing].map((tool) => tool.name))).toThrow(
      'The tool "notes__export" clashes with the MCP server "notes" (mcpServers.notes): its tools are named "notes__<tool>". Rename the tool or the server.',
    );
    expect(() => upstreams(tools.map((tool) => tool.name))).not.toThrow();
  });
});

test('security, attack 5: a passthrough server validating JWTs must name the issuer and the audience', () => {
  const problems = problemIn('servers:\n  partner:\n    tools: "*"\n    auth: { mode: passthrough, jwt: { jwksUrl: https://idp.partner.example/jwks } }\n    access: { users: [anonymous] }\n');
  expect(problems).toContain('servers.partner.auth.jwt.issuer: required: the issuer whose tokens this server accepts');
  expect(problems).toContain('servers.partner.auth.jwt.audience: required: the audience the tokens must be issued for');
});
