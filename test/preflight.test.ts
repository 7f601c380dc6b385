/** Consent pre-flight and the `uses` graph: which apps a tool needs, known without running it. */
import { z } from 'zod';
import { loadSettings } from '../core/config/settings.ts';
import { openSqlite } from '../core/db.ts';
import { parseVaultKey, Vault } from '../core/vault/index.ts';
import { appsToConnect } from '../gateway/consent/preflight.ts';
import { collectDefinitions, defineCallable, defineTool, requiredApps, type CallableDefinition } from '../workflows/sdk/define.ts';
import { triagePullRequest } from '../workflows/tools/triage-pull-request.ts';

const settings = loadSettings({ BATON_SANDBOX_URL: 'http://127.0.0.1:1' });
const alice = { tenant: 'acme', subject: 'alice' };

async function freshVault(): Promise<Vault> {
  return Vault.open(await openSqlite(':memory:'), parseVaultKey(Buffer.alloc(32, 7).toString('base64'), 'env', 'test'));
}

async function connect(vault: Vault, app: string): Promise<void> {
  await vault.putConnection({ ...alice, app, accessToken: `token-${app}`, scopes: [], externalAccountId: '1', externalLogin: 'alice' });
}

test('the demo tool needs github, slack and jira: its own apps plus every descendant’s', () => {
  expect(requiredApps(triagePullRequest)).toEqual(['github', 'jira', 'slack']);
  expect([...collectDefinitions([triagePullRequest]).keys()]).toEqual(['triage_pull_request', 'summarize_pull_request', 'notify_team']);
});

test('pre-flight asks for every user-connection app at once, and skips service-account apps', async () => {
  const vault = await freshVault();
  expect(await appsToConnect(triagePullRequest, alice, settings, vault)).toEqual([
    { app: 'github', appName: 'GitHub', scopes: ['repo'], reason: 'never_connected' },
    { app: 'slack', appName: 'Slack', scopes: ['chat:write', 'channels:read'], reason: 'never_connected' },
  ]);
  await connect(vault, 'github');
  expect((await appsToConnect(triagePullRequest, alice, settings, vault)).map((a) => a.app)).toEqual(['slack']);
  await connect(vault, 'slack');
  expect(await appsToConnect(triagePullRequest, alice, settings, vault)).toEqual([]);
  await vault.markConnection('acme', 'alice', 'slack', 'needs_reconsent', 'refresh_failed');
  expect(await appsToConnect(triagePullRequest, alice, settings, vault)).toEqual([expect.objectContaining({ app: 'slack', reason: 'needs_reconsent' })]);
  expect(await appsToConnect(triagePullRequest, { tenant: 'acme', subject: 'bob' }, settings, vault)).toHaveLength(2);
});

test('switching an app to a service account removes it from pre-flight', async () => {
  const serviceSlack = loadSettings({ BATON_SANDBOX_URL: 'http://127.0.0.1:1', BATON_SLACK_MODE: 'service_account' });
  expect((await appsToConnect(triagePullRequest, alice, serviceSlack, await freshVault())).map((a) => a.app)).toEqual(['github']);
});

test('cycles in `uses` are tolerated and duplicate names are refused', () => {
  const uses: CallableDefinition[] = [];
  const looping = defineCallable({ name: 'looping', description: 'x', input: z.object({}), apps: ['slack'], uses }, async () => null);
  uses.push(looping);
  const tool = defineTool({ name: 'loop_tool', description: 'x', input: z.object({}), apps: ['github'], uses: [looping] }, async () => null);
  expect(requiredApps(tool)).toEqual(['github', 'slack']);

  const impostor = defineCallable({ name: 'looping', description: 'y', input: z.object({}) }, async () => null);
  expect(() => collectDefinitions([tool, impostor])).toThrow('Two different callables are named "looping"');
});

test('invalid tool names and configuration values are refused with clear messages', () => {
  expect(() => defineTool({ name: 'Bad Name', description: 'x', input: z.object({}) }, async () => null)).toThrow(/not a valid name/);
  expect(() => loadSettings({ BATON_GITHUB_MODE: 'telepathy' })).toThrow('BATON_GITHUB_MODE must be "user_oauth" or "service_account" (got "telepathy").');
  expect(() => loadSettings({ BATON_PUBLIC_URL: 'ftp://x' })).toThrow(/BATON_PUBLIC_URL is invalid/);
});
