/**
 * The consent pages in a (cookie-keeping, form-submitting) browser: sign-in at the identity provider,
 * the run's own user only, and a `state` that is single-use, session-bound and short-lived.
 */
import { approveConsentOverHttp, CookieKeepingClient } from '../sandbox/browserless-consent.ts';
import { GatewayStack, type DemoUserName } from './support/gateway-stack.ts';

let gs: GatewayStack;
let link: string;

beforeAll(async () => {
  gs = await GatewayStack.start();
  // A run of alice's, paused on GitHub: its consent link is what everyone below tries to use.
  const client = await gs.connect(await gs.tokenFor('alice'));
  const paused = await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  link = (paused.structuredContent as { authorizationUrls: { github: string } }).authorizationUrls.github;
  await client.close();
}, 120_000);

afterAll(async () => {
  await gs?.close();
});

const aliceGithub = () => gs.stack.stores.vault.getConnectionInfo('acme', 'alice', 'github');

/** Opens the link in `browser`, signs in at the identity provider if asked, and stops at the app's authorize URL. */
async function openLinkUntilTheApp(browser: CookieKeepingClient, user: DemoUserName): Promise<URL> {
  let target = new URL(link);
  for (let hop = 0; hop < 5; hop += 1) {
    const response = await browser.fetch(target);
    const next = new URL(response.headers.get('location') ?? 'about:blank', target);
    if (response.status !== 302) throw new Error(`expected a redirect from ${target.href}, got ${response.status}: ${await response.text()}`);
    if (next.href.startsWith(gs.stack.sandbox.idpIssuer)) target = await approveConsentOverHttp(next.href, { username: user, password: user }, 'approve', browser);
    else if (next.origin === gs.url) target = next;
    else return next;
  }
  throw new Error('too many redirects');
}

test('the link is Baton’s own, carries no secret, and signs the browser in first', async () => {
  expect(link).toMatch(new RegExp(`^${gs.url}/connect/[\\w-]+$`));
  const first = await fetch(link, { redirect: 'manual' });
  expect(first.status).toBe(302);
  expect(first.headers.get('location')).toMatch(new RegExp(`^${gs.stack.sandbox.idpIssuer}/auth\\?`));
  expect(first.headers.get('set-cookie')).toMatch(/baton_sign_in=[^;]+;.*HttpOnly.*SameSite=Lax/);
});

test('the app authorize URL uses PKCE S256 and a fresh random state', async () => {
  const authorize = await openLinkUntilTheApp(new CookieKeepingClient(), 'alice');
  expect(authorize.pathname).toBe('/github/login/oauth/authorize');
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('state')).toMatch(/^[\w-]{32,}$/);
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${gs.url}/oauth/callback/github`);
});

test('bob opening alice’s link is refused, and nothing is stored', async () => {
  const page = await gs.consentInBrowser(link, 'bob');
  expect(page.status).toBe(403);
  expect(page.text).toContain('This link belongs to someone else');
  expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'bob', 'github')).toBeUndefined();
  expect(await aliceGithub()).toBeUndefined();
});

test('a state brought back in another browser session is refused', async () => {
  const browserA = new CookieKeepingClient();
  const callback = await approveConsentOverHttp((await openLinkUntilTheApp(browserA, 'alice')).href, { username: 'alice', password: 'alice' }, 'approve', browserA);
  const browserB = new CookieKeepingClient();
  await openLinkUntilTheApp(browserB, 'alice'); // alice is signed in to Baton in B too, but B did not start this authorization
  const page = await browserB.fetch(callback);
  expect(page.status).toBe(400);
  expect(await page.text()).toContain('started in another browser session');
  expect(await aliceGithub()).toBeUndefined();
});

test('an expired state is refused', async () => {
  const browser = new CookieKeepingClient();
  const callback = await approveConsentOverHttp((await openLinkUntilTheApp(browser, 'alice')).href, { username: 'alice', password: 'alice' }, 'approve', browser);
  // Ten minutes pass (the state's lifetime) before the user comes back.
  await gs.stack.stores.db.run('UPDATE consent_authorizations SET expires_at = ? WHERE state = ?', Date.now() - 1, callback.searchParams.get('state')!);
  const page = await browser.fetch(callback);
  expect(page.status).toBe(400);
  expect(await page.text()).toContain('took longer than 10 minutes');
  expect(await aliceGithub()).toBeUndefined();
});

test('an error from the provider gets its own page and stores nothing', async () => {
  const browser = new CookieKeepingClient();
  const authorize = await openLinkUntilTheApp(browser, 'alice');
  const providerError = new URL(`${gs.url}/oauth/callback/github`);
  providerError.search = new URLSearchParams({ error: 'server_error', error_description: 'GitHub is having a bad day', state: authorize.searchParams.get('state')! }).toString();
  const page = await browser.fetch(providerError);
  expect(page.status).toBe(502);
  expect(await page.text()).toContain('The app did not finish connecting');
  expect(await aliceGithub()).toBeUndefined();
});

test('denying at the app gets its own page and stops the run', async () => {
  const client = await gs.connect(await gs.tokenFor('bob'));
  const paused = await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 2 } });
  const bobLink = (paused.structuredContent as { authorizationUrls: { github: string } }).authorizationUrls.github;
  const page = await gs.consentInBrowser(bobLink, 'bob', 'deny');
  expect(page.status).toBe(200);
  expect(page.text).toContain('You declined to connect GitHub');
  const after = await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 2 } });
  expect(after.isError).toBe(true);
  expect((after.content as { text: string }[])[0]!.text).toMatch(/The run failed: .*declined/i);
  await client.close();
});

test('approving works once; replaying the callback is refused and changes nothing', async () => {
  const browser = new CookieKeepingClient();
  const callback = await approveConsentOverHttp((await openLinkUntilTheApp(browser, 'alice')).href, { username: 'alice', password: 'alice' }, 'approve', browser);
  const page = await browser.fetch(callback);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('GitHub connected as @alice — you can return to your assistant.');
  const connected = await aliceGithub();
  expect(connected).toMatchObject({ status: 'active', externalLogin: 'alice' });

  const replay = await browser.fetch(callback);
  expect(replay.status).toBe(400);
  expect(await replay.text()).toContain('already used');
  // The resumed run may have used the connection meanwhile (lastUsedAt); nothing else may differ.
  const withoutUse = (info: Awaited<ReturnType<typeof aliceGithub>>) => ({ ...info, lastUsedAt: undefined });
  expect(withoutUse(await aliceGithub())).toEqual(withoutUse(connected));
});

test('a used link and an unknown link each get a clear page after sign-in', async () => {
  const used = await gs.consentInBrowser(link, 'alice');
  expect(used.status).toBe(410);
  expect(used.text).toContain('already granted');
  const unknown = await gs.consentInBrowser(`${gs.url}/connect/no-such-request`, 'alice');
  expect(unknown.status).toBe(404);
  expect(unknown.text).toContain('There is no consent request');
});

test('consent pages carry security headers', async () => {
  const page = await fetch(`${gs.url}/connect/no-such-request`, { redirect: 'manual' });
  expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
});
