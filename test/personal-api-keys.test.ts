/** Apps that use each person's own API key: entered once on Baton's page through the consent flow, used only for that person. */
import type { Client } from '@modelcontextprotocol/client';
import { approveConsentOverHttp, CookieKeepingClient, parseForms } from '../sandbox/browserless-consent.ts';
import type { LoggedRequest } from '../sandbox/server.ts';
import { gatewayStackForSuite, type DemoUserName, type GatewayStack } from './support/gateway-stack.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

let gs: GatewayStack;

gatewayStackForSuite((started) => (gs = started), {
  config: `
apps:
  crm:
    credential: { mode: api_key, in: header, name: X-Api-Key, scope: individual }
    # The caller's own vault credential can also ride in a header (here: the same key, under another name).
    headers:
      - { name: X-Own-Key, from: vault, credential: crm, perUser: true }
servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
`,
});

const probe = (client: Client) => client.callTool({ name: 'crm_probe_bearer', arguments: {} });

/** Opens the link as `user` (signing in at the identity provider if asked) and returns the key form page. */
async function openKeyPage(link: string, user: DemoUserName, browser: CookieKeepingClient): Promise<{ url: URL; html: string; status: number }> {
  let target = new URL(link);
  for (let hop = 0; hop < 5; hop += 1) {
    const response = await browser.fetch(target);
    const location = response.headers.get('location');
    if (!location) return { url: target, html: await response.text(), status: response.status };
    const next = new URL(location, target);
    target = next.origin === gs.url ? next : await approveConsentOverHttp(next.href, { username: user, password: user }, 'approve', browser);
  }
  throw new Error('too many redirects');
}

async function submitKey(page: { url: URL; html: string }, browser: CookieKeepingClient, secret: string): Promise<{ status: number; html: string }> {
  const [form] = parseForms(page.html);
  const response = await browser.submit(page.url, form!, { secret });
  return { status: response.status, html: await response.text() };
}

test('alice enters her own key once; her calls use it; bob is asked for his own and his calls use his', async () => {
  const { alice: aliceKey, bob: bobKey } = gs.stack.sandbox.crm.userApiKeys as { alice: string; bob: string };

  const alice = await gs.connect(await gs.tokenFor('alice'));
  const asked = (await probe(alice)).structuredContent as { status: string; authorizationUrls: { crm: string } };
  expect(asked.status).toBe('auth_required');
  const browser = new CookieKeepingClient();
  const form = await openKeyPage(asked.authorizationUrls.crm, 'alice', browser);
  expect(form.status).toBe(200);
  expect(form.html).toContain('Enter your CRM API key');
  expect(form.html).toContain('type="password"');
  const saved = await submitKey(form, browser, aliceKey);
  expect(saved.html).toContain('CRM connected as @alice — you can return to your assistant.');
  expect(saved.html).not.toContain(aliceKey);

  let since = await lastLogSeq(gs.stack.sandbox.url);
  expect((await probe(alice)).structuredContent).toEqual({ customer: 'Acme Corp', noteAuthor: 'alice' });
  let calls = ((await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] }).requests.filter((r) => r.path.startsWith('/api/'));
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    expect(call.credential).toMatchObject({ kind: 'api_key_header', presented: aliceKey, user: 'alice' });
    expect(call.headers['x-own-key']).toBe(aliceKey);
  }

  // bob has no key yet: he is asked for his own, never given alice's.
  const bob = await gs.connect(await gs.tokenFor('bob'));
  const bobAsked = (await probe(bob)).structuredContent as { status: string; authorizationUrls: { crm: string } };
  expect(bobAsked.status).toBe('auth_required');
  const bobBrowser = new CookieKeepingClient();
  const bobForm = await openKeyPage(bobAsked.authorizationUrls.crm, 'bob', bobBrowser);
  const rejected = await submitKey(bobForm, bobBrowser, 'crm_uk_not-a-real-key');
  expect(rejected.status).toBe(400);
  expect(rejected.html).toContain('CRM did not accept this key');
  expect(rejected.html).not.toContain('crm_uk_not-a-real-key');
  expect((await submitKey(bobForm, bobBrowser, bobKey)).html).toContain('CRM connected as @bob');

  since = await lastLogSeq(gs.stack.sandbox.url);
  expect((await probe(bob)).structuredContent).toEqual({ customer: 'Acme Corp', noteAuthor: 'bob' });
  calls = ((await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] }).requests.filter((r) => r.path.startsWith('/api/'));
  for (const call of calls) expect(call).toMatchObject({ credential: { presented: bobKey, user: 'bob' }, headers: { 'x-own-key': bobKey } });
  await Promise.all([alice.close(), bob.close()]);
});

test('the key form refuses a post without its CSRF token, and another user’s link', async () => {
  const client = await gs.connect(await gs.tokenFor('alice'));
  await gs.stack.stores.vault.deleteConnection('acme', 'alice', 'crm');
  const asked = (await probe(client)).structuredContent as { authorizationUrls: { crm: string } };
  const browser = new CookieKeepingClient();
  const form = await openKeyPage(asked.authorizationUrls.crm, 'alice', browser);
  const forged = await browser.fetch(form.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'secret=anything' });
  expect(forged.status).toBe(403);
  expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'alice', 'crm')).toBeUndefined();

  const bobPage = await openKeyPage(asked.authorizationUrls.crm, 'bob', new CookieKeepingClient());
  expect(bobPage.status).toBe(403);
  expect(bobPage.html).toContain('This link belongs to someone else');
  await client.close();
});

test('no API key reached Temporal history', async () => {
  await expectNoSecretsInHistories(gs.stack);
});
