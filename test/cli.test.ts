/** The command line: `baton token` for scripts, and `baton api-token` to manage service callers. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp } from './support/mcp-http.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started));

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));

/** Runs the CLI as its own process (asynchronously: the identity provider it talks to lives in this one). */
function run(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [baton, ...args], { env: { ...gs.gatewayEnv, BATON_PUBLIC_URL: gs.url } }, (error, stdout, stderr) => {
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const listTools = (token: string) => postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${token}` });

test('baton token alice prints one bearer token and nothing else, and it works at /mcp', async () => {
  const { status, stdout, stderr } = await run('token', 'alice');
  expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
  expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  expect((await listTools(stdout.trim())).status).toBe(200);
});

test('baton token with a wrong password fails with a clear message and prints no token', async () => {
  const { status, stdout, stderr } = await run('token', 'alice', '--password', 'wrong');
  expect(status).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toContain('could not get a token for alice');
});

test('baton api-token create, list and revoke', async () => {
  const created = await run('api-token', 'create', 'deploy-bot', '--tenant', 'acme');
  expect(created.status).toBe(0);
  const token = created.stdout.trim();
  expect(token).toMatch(/^baton_[0-9a-f]{16}_[\w-]+$/);
  expect(created.stderr).toContain('It is shown once');
  expect((await listTools(token)).status).toBe(200);

  const listed = await run('api-token', 'list');
  expect(listed.stdout).toMatch(/deploy-bot +tenant=acme .* active/);
  expect(listed.stdout).not.toContain(token.split('_')[2]);

  expect((await run('api-token', 'create', 'deploy-bot')).stderr).toContain('deploy-bot');
  expect((await run('api-token', 'revoke', 'deploy-bot')).stdout).toContain('Revoked "deploy-bot"');
  expect((await listTools(token)).status).toBe(401);
  expect(await run('api-token', 'revoke', 'deploy-bot')).toMatchObject({ status: 1, stderr: expect.stringContaining('No active API token') });
});
