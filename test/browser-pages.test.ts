/**
 * The end user's pages in real Chromium (Debian's package, driven by playwright-core), against the whole
 * product: alice calls the demo tool through an MCP client, follows the consent links in the browser,
 * and sees her connections, runs and audit trail; bob sees none of it; forms need their CSRF token;
 * app data is escaped. Screenshots of every step go to test-artifacts/screenshots/.
 */
import type { Client } from '@modelcontextprotocol/client';
import type { Browser, Locator } from 'playwright-core';
import type { AuditRecord } from '../core/audit/audit-event.ts';
import type { ConnectionInfo } from '../core/vault/connection-types.ts';
import { auditPage, connectionsPage, runPage, runsPage } from '../gateway/web/account-pages.ts';
import type { RunView } from '../gateway/web/account-views.ts';
import { BrowserUser, launchChromium } from './support/browser.ts';
import { gatewayStackForSuite, type DemoUserName, type GatewayStack } from './support/gateway-stack.ts';
import { notesUpstreamYaml, upstreamEnv } from './support/upstreams.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), {
  config: (sandbox) => ({
    env: upstreamEnv(sandbox),
    yaml: `
mcpServers:
${notesUpstreamYaml(sandbox)}apps:
  crm:
    credential: { mode: api_key, in: header, name: X-Api-Key, scope: individual }
servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
roles:
  alice: owner
  bob: viewer
`,
  }),
});

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

const script = '<script>alert(1)</script>';
const escapedScript = '&#60;script&#62;alert(1)&#60;/script&#62;';
const triage = { name: 'triage_pull_request', arguments: { repo: 'acme/widgets', number: 1 } };
/** Alice's triage run, found in the first test and used by the later ones. */
let aliceRunId = '';

const connection = (user: DemoUserName, app: string) => gs.stack.stores.vault.getConnectionInfo('acme', user, app);

/** What a part of the page says, as a person reads it. */
const textOf = (locator: Locator) => locator.innerText();

/** Clicks and waits until the browser has left this URL and the next page (after any redirects) has loaded. */
async function clickAndWait(user: BrowserUser, selector: string): Promise<void> {
  const before = user.page.url();
  await user.page.click(selector);
  await user.page.waitForURL((url) => url.href !== before, { waitUntil: 'load' });
}

/**
 * Walks the identity provider's and the sandbox app's pages as `who` — sign in, approve — with a
 * screenshot of each, until the browser is back on Baton.
 */
async function signInAndApprove(user: BrowserUser, who: DemoUserName): Promise<void> {
  const { page } = user;
  for (let step = 0; step < 8; step += 1) {
    const url = new URL(page.url());
    if (url.origin === gs.url) return;
    const where = url.href.startsWith(gs.stack.sandbox.idpIssuer) ? 'identity provider' : url.pathname.split('/')[1]!;
    if (await page.locator('input[name=username]').count()) {
      await page.fill('input[name=username]', who);
      await page.fill('input[name=password]', who);
      await user.screenshot(`${where} sign-in`);
      await clickAndWait(user, 'button[type=submit]');
    } else if (await page.locator('button[name=decision][value=approve]').count()) {
      await user.screenshot(`${where} consent`);
      await clickAndWait(user, 'button[name=decision][value=approve]');
    } else {
      throw new Error(`Unexpected page at ${page.url()}: ${await page.content()}`);
    }
  }
  throw new Error(`Still not back on Baton after 8 pages: ${page.url()}`);
}

/** Opens a Baton page, signing in at the identity provider first if the browser has no session yet. */
async function openAccountPage(user: BrowserUser, who: DemoUserName, path: string): Promise<void> {
  await user.page.goto(`${gs.url}${path}`);
  await signInAndApprove(user, who);
  expect(new URL(user.page.url()).pathname).toBe(path.split('?')[0]);
}

/** The raw HTML Baton sends for a page, with this browser's cookies (what the server wrote, not the DOM). */
async function rawHtml(user: BrowserUser, path: string): Promise<{ status: number; html: string }> {
  const response = await user.context.request.get(`${gs.url}${path}`, { maxRedirects: 0 });
  return { status: response.status(), html: await response.text() };
}

/** Calls the tool again until the run's outcome arrives (the call re-attaches to the same run). */
async function outcomeOf(client: Client, call: { name: string; arguments: Record<string, unknown> }) {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const result = await client.callTool(call);
    const content = result.structuredContent as { status?: string } | undefined;
    if (content?.status !== 'running' && content?.status !== 'auth_required') return result;
  }
  throw new Error('the run did not finish');
}

test('alice: consent links from her MCP client in Chromium, the run completes, her connections and runs pages show it, and Revoke works', async () => {
  const client = await gs.connect(await gs.tokenFor('alice'));
  const paused = await client.callTool(triage);
  const asked = paused.structuredContent as { status: string; runId: string; authorizationUrls: Record<string, string> };
  expect(asked.status).toBe('auth_required');
  expect(Object.keys(asked.authorizationUrls).sort()).toEqual(['github', 'slack']);
  aliceRunId = asked.runId;

  const alice = await BrowserUser.open(browser, 'alice consent and account');
  try {
    // GitHub: Baton's link → sign in at the identity provider → GitHub's sign-in and consent → Baton's success page.
    await alice.page.goto(asked.authorizationUrls.github!);
    await signInAndApprove(alice, 'alice');
    expect(await textOf(alice.page.locator('h1'))).toContain('GitHub connected');
    expect(await textOf(alice.page.locator('main'))).toContain('GitHub connected as @alice — you can return to your assistant.');
    await alice.screenshot('github connected');

    // While the run still waits for Slack, the runs page says so, with the Connect button it needs.
    await alice.page.goto(`${gs.url}/account/runs`);
    const waitingRow = alice.page.locator('tr', { has: alice.page.locator(`code:text-is("${aliceRunId}")`) });
    expect(await textOf(waitingRow)).toContain('Waiting for you');
    expect(await waitingRow.locator('a', { hasText: 'Connect' }).count()).toBe(1); // one button per app, however many times the run asked
    expect(await waitingRow.locator('a', { hasText: 'Connect Slack' }).getAttribute('href')).toMatch(/^\/connect\/[\w-]+$/);
    await alice.screenshot('runs page waiting for slack');

    // Slack: already signed in to Baton, so straight to Slack's pages.
    await alice.page.goto(asked.authorizationUrls.slack!);
    await signInAndApprove(alice, 'alice');
    expect(await textOf(alice.page.locator('main'))).toContain('Slack connected as @alice');
    await alice.screenshot('slack connected');

    const done = await outcomeOf(client, triage);
    expect(done.isError).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ title: 'Add retry to widget sync', jiraKey: expect.stringMatching(/^OPS-\d+$/) });

    // The success page links to the connections page, which shows GitHub connected as alice.
    await alice.page.goto(`${gs.url}/account`);
    expect(new URL(alice.page.url()).pathname).toBe('/account/connections');
    const github = alice.page.locator('tbody tr', { has: alice.page.locator('th', { hasText: 'GitHub' }) });
    expect(await textOf(github)).toContain('Connected as @alice');
    expect(await textOf(github.locator('td').nth(1))).toContain('repo');
    expect(await textOf(alice.page.locator('tbody tr', { has: alice.page.locator('th', { hasText: 'Slack' }) }))).toContain('Connected as @alice');
    await alice.screenshot('connections page');

    // The runs page: the run completed, with its steps — each app and whose credential it used.
    await alice.page.click('nav >> text=Runs');
    await alice.page.waitForURL(`${gs.url}/account/runs`);
    const runRow = alice.page.locator('tr', { has: alice.page.locator(`code:text-is("${aliceRunId}")`) });
    expect(await textOf(runRow)).toContain('Completed');
    expect(await textOf(runRow)).toContain('GitHub');
    expect(await textOf(runRow)).toContain('Slack');
    expect(await textOf(runRow)).toContain('Jira');
    expect(await textOf(runRow)).toContain('Your connection (@alice)');
    expect(await textOf(runRow)).toContain('Service account');
    await alice.screenshot('runs page');

    await clickAndWait(alice, `a[href="/account/runs/${aliceRunId}"]`);
    expect(await textOf(alice.page.locator('h1'))).toContain('Run of triage_pull_request');
    const steps = alice.page.locator('table tbody tr');
    expect(await steps.count()).toBe((await gs.stack.stores.audit.forRun(aliceRunId)).length);
    const stepTexts = await steps.allTextContents();
    expect(stepTexts.some((row) => /GitHub\s*pulls\.get\s*ok/.test(row) && row.includes('Your connection (@alice)'))).toBe(true);
    expect(stepTexts.some((row) => row.includes('Jira') && row.includes('Service account'))).toBe(true);
    await alice.screenshot('run details');

    // Revoke GitHub on the connections page.
    await alice.page.click('nav >> text=Connections');
    await alice.page.waitForURL(`${gs.url}/account/connections`);
    await clickAndWait(alice, 'button:text-is("Revoke GitHub")');
    expect(new URL(alice.page.url()).pathname).toBe('/account/connections');
    expect(await textOf(alice.page.locator('[role=status]'))).toContain('GitHub disconnected');
    expect(await textOf(alice.page.locator('tbody tr', { has: alice.page.locator('th', { hasText: 'GitHub' }) }))).toContain('Not connected');
    expect(await textOf(alice.page.locator('tbody tr', { has: alice.page.locator('th', { hasText: 'Slack' }) }))).toContain('Connected as @alice');
    await alice.screenshot('github revoked');
    expect(await connection('alice', 'github')).toBeUndefined();
    expect(await gs.stack.stores.audit.query({ subject: 'alice', kind: 'connection.revoked', app: 'github' })).toHaveLength(1);
  } finally {
    await alice.close();
    await client.close();
  }
}, 180_000);

test('carol: an upstream MCP tool from her MCP client, consent in Chromium through Notes’ own sign-in, the result is hers, and Connections lists Notes', async () => {
  const client = await gs.connect(await gs.tokenFor('carol'));
  const call = { name: 'notes__whoami', arguments: {} };
  const paused = await client.callTool(call);
  const asked = paused.structuredContent as { status: string; authorizationUrls: Record<string, string> };
  expect(asked.status).toBe('auth_required');
  expect(Object.keys(asked.authorizationUrls)).toEqual(['notes']);
  const carol = await BrowserUser.open(browser, 'carol upstream consent');
  try {
    // Baton's link → the identity provider (sign in to Baton) → the notes server's own authorization server → Baton.
    await carol.page.goto(asked.authorizationUrls.notes!);
    await signInAndApprove(carol, 'carol');
    expect(await textOf(carol.page.locator('main'))).toContain('Notes connected as @carol');
    await carol.screenshot('notes connected');
    const done = await outcomeOf(client, call);
    expect(done.structuredContent).toMatchObject({ user: 'carol' });
    await carol.page.goto(`${gs.url}/account/connections`);
    expect(await textOf(carol.page.locator('tbody tr', { has: carol.page.locator('th', { hasText: 'Notes' }) }))).toContain('Connected as @carol');
    await carol.screenshot('connections page with notes');
  } finally {
    await carol.close();
    await client.close();
  }
}, 180_000);

test('alice reconnects GitHub from her connections page, and her API-key app takes her key there (never shown again)', async () => {
  const alice = await BrowserUser.open(browser, 'alice connections page');
  try {
    await openAccountPage(alice, 'alice', '/account/connections');
    await clickAndWait(alice, 'button:text-is("Connect GitHub")');
    await signInAndApprove(alice, 'alice');
    expect(await textOf(alice.page.locator('main'))).toContain('GitHub connected as @alice');
    await alice.screenshot('github connected from the page');
    await clickAndWait(alice, 'a:text-is("See all your connections")');
    expect(await textOf(alice.page.locator('tbody tr', { has: alice.page.locator('th', { hasText: 'GitHub' }) }))).toContain('Connected as @alice');
    expect(await connection('alice', 'github')).toMatchObject({ status: 'active', externalLogin: 'alice' });

    // A connection the app stopped accepting shows as needing re-consent, with Reconnect.
    await gs.stack.stores.vault.markConnection('acme', 'alice', 'slack', 'needs_reconsent', 'Slack said token_revoked');
    await alice.page.reload();
    const slack = alice.page.locator('tbody tr', { has: alice.page.locator('th', { hasText: 'Slack' }) });
    expect(await textOf(slack)).toContain('Needs re-consent');
    expect(await textOf(slack)).toContain('Slack said token_revoked');
    expect(await slack.locator('button', { hasText: 'Reconnect Slack' }).count()).toBe(1);
    await alice.screenshot('slack needs re-consent');
    await clickAndWait(alice, 'button:text-is("Reconnect Slack")');
    await signInAndApprove(alice, 'alice');
    expect(await textOf(alice.page.locator('main'))).toContain('Slack connected as @alice');
    expect(await connection('alice', 'slack')).toMatchObject({ status: 'active' });

    // CRM takes each person's own API key: a labelled password field on the page.
    const { alice: aliceKey } = gs.stack.sandbox.crm.userApiKeys as { alice: string };
    await alice.page.goto(`${gs.url}/account/connections`);
    await alice.page.getByLabel('Enter your CRM API key').fill('not-a-real-key');
    await clickAndWait(alice, 'button:text-is("Save CRM key")');
    expect(await textOf(alice.page.locator('[role=alert]'))).toContain('CRM did not accept this key');
    expect(await alice.page.content()).not.toContain('not-a-real-key');
    await alice.screenshot('crm key rejected');
    await alice.page.getByLabel('Enter your CRM API key').fill(aliceKey);
    await clickAndWait(alice, 'button:text-is("Save CRM key")');
    expect(await textOf(alice.page.locator('[role=status]'))).toContain('Your CRM key is saved.');
    expect(await textOf(alice.page.locator('tbody tr', { has: alice.page.locator('th', { hasText: 'CRM' }) }))).toContain('Connected as @alice');
    await alice.screenshot('crm key saved');
    expect(await connection('alice', 'crm')).toMatchObject({ status: 'active', externalLogin: 'alice' });
    expect((await rawHtml(alice, '/account/connections')).html).not.toContain(aliceKey);
  } finally {
    await alice.close();
  }
}, 120_000);

test('app data with HTML in it is escaped on every page; no script runs', async () => {
  // An action name that is markup: the run fails, and its error (which quotes it) reaches the runs and audit pages.
  const client = await gs.connect(await gs.tokenFor('alice'));
  const failed = await outcomeOf(client, { name: 'call_anything', arguments: { app: 'github', action: script, input: {} } });
  await client.close();
  expect(failed.isError).toBe(true);

  const alice = await BrowserUser.open(browser, 'escaping');
  const dialogs: string[] = [];
  alice.page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  try {
    await openAccountPage(alice, 'alice', '/account/runs');
    const row = alice.page.locator('tbody tr', { hasText: 'call_anything' }).first();
    expect(await textOf(row)).toContain(`Failed: GitHub has no action "${script}"`);
    await alice.screenshot('runs page with markup in an error');
    const runs = await rawHtml(alice, '/account/runs');
    expect(runs.html).toContain(escapedScript);
    expect(runs.html).not.toContain(script);
    await alice.page.goto(`${gs.url}/account/audit?tool=call_anything`);
    expect(await textOf(alice.page.locator('tbody'))).toContain(script);
    await alice.screenshot('audit page with markup in a message');
    const audit = await rawHtml(alice, '/account/audit?tool=call_anything');
    expect(audit.html).toContain(escapedScript);
    expect(audit.html).not.toContain(script);
    expect(await alice.page.locator('script').count()).toBe(0);
    expect(dialogs).toEqual([]);
  } finally {
    await alice.close();
  }
}, 120_000);

test('forms without a valid CSRF token are refused with 403 and change nothing', async () => {
  const alice = await BrowserUser.open(browser, 'csrf');
  try {
    await openAccountPage(alice, 'alice', '/account/connections');
    const valid = await alice.page.locator(`form[action="/account/connections/github/revoke"] input[name=csrf]`).inputValue();
    const revoke = `${gs.url}/account/connections/github/revoke`;
    const post = (url: string, form: Record<string, string>) => alice.context.request.post(url, { form, maxRedirects: 0 });

    const refusals = [
      await post(revoke, {}), // no token
      await post(revoke, { csrf: 'x'.repeat(valid.length) }), // a wrong one
      await post(revoke, { csrf: await alice.page.locator(`form[action="/account/connections/github/connect"] input[name=csrf]`).inputValue() }), // another form's
      await post(`${gs.url}/account/connections/slack/revoke`, { csrf: valid }), // another app's
    ];
    for (const refused of refusals) {
      expect(refused.status()).toBe(403);
      expect(await refused.text()).toContain('This form has expired');
    }
    // A form body far too large is refused with a clear page too, and changes nothing.
    const oversized = await post(revoke, { csrf: valid, padding: 'x'.repeat(64 * 1024) });
    expect(oversized.status()).toBe(413);
    expect(await oversized.text()).toContain('The form was not sent as Baton expects');
    // Another browser with no session (a page on another site posting here) is refused too.
    const stranger = await fetch(revoke, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(valid)}`, redirect: 'manual' });
    expect(stranger.status).toBe(403);
    expect(await connection('alice', 'github')).toMatchObject({ status: 'active' });
    expect(await connection('alice', 'slack')).toMatchObject({ status: 'active' });

    // The 403 page, as the browser shows it: a form whose token was tampered with.
    await alice.page.locator(`form[action="/account/connections/github/revoke"] input[name=csrf]`).evaluate((input) => ((input as { value: string }).value = 'tampered'));
    await clickAndWait(alice, 'button:text-is("Revoke GitHub")');
    expect(await textOf(alice.page.locator('h1'))).toContain('This form has expired');
    await alice.screenshot('csrf refused');
    expect(await connection('alice', 'github')).toMatchObject({ status: 'active' });

    // The consent page's key form refuses a missing token as well.
    const consentPost = await post(`${gs.url}/connect/some-request`, { secret: 'k' });
    expect(consentPost.status()).toBe(403);
  } finally {
    await alice.close();
  }
}, 120_000);

test('bob sees none of alice’s runs, connections or audit records; her run id is a plain 404 for him', async () => {
  // bob has a run of his own, waiting for him to connect GitHub.
  const client = await gs.connect(await gs.tokenFor('bob'));
  const paused = (await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } })).structuredContent as { runId: string };
  await client.close();

  const bob = await BrowserUser.open(browser, 'bob isolation');
  try {
    await openAccountPage(bob, 'bob', '/account/runs');
    expect(await textOf(bob.page.locator('main'))).not.toContain(aliceRunId);
    expect(await textOf(bob.page.locator('main'))).not.toContain('triage_pull_request');
    const own = bob.page.locator('tr', { has: bob.page.locator(`code:text-is("${paused.runId}")`) });
    expect(await textOf(own)).toContain('Waiting for you');
    expect(await own.locator('a', { hasText: 'Connect GitHub' }).getAttribute('href')).toMatch(/^\/connect\/[\w-]+$/);
    await bob.screenshot('bob runs');

    const foreign = await rawHtml(bob, `/account/runs/${aliceRunId}`);
    const missing = await rawHtml(bob, '/account/runs/no-such-run');
    expect(foreign.status).toBe(404);
    expect(foreign.html).not.toContain('triage_pull_request');
    // The same page as for a run that does not exist: nothing tells bob alice's run is there.
    expect(foreign.html.replace(aliceRunId, '')).toBe(missing.html.replace('no-such-run', ''));
    await bob.page.goto(`${gs.url}/account/runs/${aliceRunId}`);
    await bob.screenshot('bob opens alice run');

    await bob.page.goto(`${gs.url}/account/connections`);
    expect(await textOf(bob.page.locator('main'))).not.toContain('@alice');
    expect(await textOf(bob.page.locator('tbody tr', { has: bob.page.locator('th', { hasText: 'GitHub' }) }))).toContain('Not connected');
    await bob.screenshot('bob connections');

    // bob's audit trail is his own; asking for alice's is ignored (he has the viewer role).
    await bob.page.goto(`${gs.url}/account/audit?user=alice`);
    expect(await textOf(bob.page.locator('h1'))).toContain('Your audit trail');
    expect(await bob.page.locator('#f-user').count()).toBe(0);
    const rows = await bob.page.locator('tbody tr').allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.join('\n')).not.toMatch(/alice|triage_pull_request|call_anything/);
    await bob.screenshot('bob audit');

    // Nor can bob revoke alice's connection: his forms act on his own account only.
    const token = await bob.page.locator('form[action="/account/sign-out"] input[name=csrf]').inputValue();
    expect(token).not.toBe('');
    expect(await connection('alice', 'github')).toMatchObject({ status: 'active' });
  } finally {
    await bob.close();
  }
}, 120_000);

test('alice, an owner, sees everyone’s audit records and filters them', async () => {
  const alice = await BrowserUser.open(browser, 'owner audit');
  try {
    await openAccountPage(alice, 'alice', '/account/audit');
    expect(await textOf(alice.page.locator('h1'))).toContain('Audit trail');
    const who = await alice.page.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(who.some((cell) => cell.startsWith('bob'))).toBe(true);
    expect(who.some((cell) => cell.startsWith('alice'))).toBe(true);
    await alice.screenshot('everyone');

    await alice.page.getByLabel('User', { exact: true }).fill('bob');
    await alice.page.getByLabel('Tool', { exact: true }).fill('read_pull_request');
    await clickAndWait(alice, 'button:text-is("Filter")');
    const filtered = await alice.page.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((cell) => cell.startsWith('bob'))).toBe(true);
    expect(await textOf(alice.page.locator('tbody'))).toContain('read_pull_request');
    await alice.screenshot('filtered to bob');

    await alice.page.goto(`${gs.url}/account/audit?user=bob&since=2999-01-01`);
    expect(await textOf(alice.page.locator('main'))).toContain('No records match.');
    await alice.page.goto(`${gs.url}/account/audit?since=yesterday`);
    expect(await textOf(alice.page.locator('[role=alert]'))).toContain('“Since” must be a date');
  } finally {
    await alice.close();
  }
}, 120_000);

test('signing out ends the session; the next page asks the identity provider again', async () => {
  const alice = await BrowserUser.open(browser, 'sign out');
  try {
    await openAccountPage(alice, 'alice', '/account/runs');
    await clickAndWait(alice, 'button:text-is("Sign out")');
    expect(await textOf(alice.page.locator('h1'))).toContain('Signed out');
    await alice.screenshot('signed out');
    const after = await alice.context.request.get(`${gs.url}/account/runs`, { maxRedirects: 0 });
    expect(after.status()).toBe(302);
    expect(after.headers().location!.startsWith(`${gs.stack.sandbox.idpIssuer}/auth?`)).toBe(true);
  } finally {
    await alice.close();
  }
}, 60_000);

test('account pages carry security headers and are never cached', async () => {
  const response = await fetch(`${gs.url}/account/connections`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  expect(response.headers.get('location')).toMatch(new RegExp(`^${gs.stack.sandbox.idpIssuer}/auth\\?`));
  expect(response.headers.get('cache-control')).toBe('no-store');
  const csp = response.headers.get('content-security-policy')!;
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toMatch(new RegExp(`form-action 'self' ${gs.stack.sandbox.url}`));
  expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
});

describe('templates', () => {
  const frame = { user: { subject: script, name: script, email: null }, signOutCsrf: `"${script}` };
  const at = Date.UTC(2025, 0, 6, 10, 0);
  const info: ConnectionInfo = {
    tenant: 'acme',
    subject: 'alice',
    app: 'github',
    status: 'needs_reconsent',
    statusReason: script,
    scopes: [script],
    expiresAt: null,
    externalAccountId: '1',
    externalLogin: script,
    createdAt: at,
    updatedAt: at,
    lastUsedAt: at,
    version: 1,
  };
  const record: AuditRecord = {
    seq: 1,
    at,
    kind: 'app_call',
    outcome: script,
    actor: { tenant: 'acme', subject: script, email: script, name: script, authMethod: 'oauth' },
    client: script,
    server: script,
    tool: script,
    rootRunId: script,
    runPath: [script],
    app: script,
    action: script,
    credential: { mode: script, owner: 'user', externalAccount: script, reason: script },
    upstreamStatus: 500,
    durationMs: 3,
    objectRef: script,
    message: script,
    traceId: script,
    detail: {},
    chain: script,
    chainSeq: 1,
    prevHash: '',
    hash: '',
  };
  const run: RunView = { runId: script, tool: script, createdAt: at, state: 'failed', temporalStatus: 'FAILED', failure: script, waitingOn: [], steps: [record] };
  const tokens = () => ({ connect: script, revoke: script, key: script });
  const names = (app: string) => app;

  test.each([
    [
      'connections',
      connectionsPage(
        frame,
        [
          { app: script, appName: script, connectWith: 'oauth', connection: info },
          { app: 'crm', appName: script, connectWith: 'api_key', connection: undefined },
        ],
        tokens,
        { kind: 'alert', text: script },
        { app: 'crm', message: script },
      ),
    ],
    ['runs', runsPage(frame, [run, { ...run, state: 'waiting', failure: null, waitingOn: [{ consentId: script, app: script, appName: script }] }], names)],
    ['run', runPage(frame, run, names)],
    [
      'audit',
      auditPage(frame, { everyone: true, filters: { user: script, app: script, tool: script, outcome: script, since: script }, records: [record], limit: 10, names }, { kind: 'status', text: script }),
    ],
  ])('%s page escapes every value', (_name, html) => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('"<');
    expect(html).toContain(escapedScript);
  });

  test('pages are accessible HTML: a main, headings, labelled fields, header cells with a scope', () => {
    const html = connectionsPage(frame, [{ app: 'crm', appName: 'CRM', connectWith: 'api_key', connection: undefined }], tokens);
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toMatch(/<main id="content">\s*<h1>/);
    expect(html).toContain('<nav aria-label="Account">');
    expect(html).toContain('<label for="key-crm">');
    expect(html).toContain('<input id="key-crm" name="secret" type="password" autocomplete="off" required>');
    const headerCells = html.match(/<th(?=[\s>])[^>]*>/g) ?? [];
    expect(headerCells.length).toBeGreaterThan(5);
    expect(headerCells.filter((cell) => !/ scope="(col|row)"/.test(cell))).toEqual([]);
    expect(html).toContain(':focus-visible');
  });
});
