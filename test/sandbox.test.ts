import { createHash, randomBytes } from 'node:crypto';
import { approveConsentOverHttp, CookieKeepingClient } from '../sandbox/browserless-consent.ts';
import { startSandbox, type LoggedRequest, type RunningSandbox } from '../sandbox/server.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

const clients = {
  github: { clientId: 'baton-github-client', clientSecret: 'github-client-secret-123' },
  slack: { clientId: 'baton-slack-client', clientSecret: 'slack-client-secret-456' },
};
const jiraServiceAccount = { email: 'baton@example.com', apiToken: 'jira-api-token-789' };
const redirectUri = 'http://127.0.0.1:53682/oauth/callback';
const alice = { username: 'alice', password: 'alice' };
const bob = { username: 'bob', password: 'bob' };

type App = 'github' | 'slack';
const authorizePath = { github: '/github/login/oauth/authorize', slack: '/slack/oauth/v2/authorize' };
const tokenPath = { github: '/github/login/oauth/access_token', slack: '/slack/api/oauth.v2.access' };
const revokePath = { github: '/github/login/oauth/revoke', slack: '/slack/api/auth.revoke' };

let sandbox: RunningSandbox;

/** Response bodies are free-form JSON in these tests. */
const jsonOf = (response: Response): Promise<any> => response.json();

beforeAll(async () => {
  sandbox = await startSandbox({ clients, jiraServiceAccount });
});

afterAll(async () => {
  await sandbox.close();
});

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(app: App, params: Record<string, string> = {}): string {
  const url = new URL(authorizePath[app], sandbox.url);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clients[app].clientId,
    redirect_uri: redirectUri,
    code_challenge_method: 'S256',
    state: 'state-123',
    scope: app === 'github' ? 'repo read:user' : 'chat:write,channels:read',
    ...params,
  }).toString();
  return url.href;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** POSTs a form to the token endpoint, authenticating the client with client_secret_post. */
async function tokenRequest(app: App, params: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(new URL(tokenPath[app], sandbox.url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clients[app].clientId, client_secret: clients[app].clientSecret, ...params }),
  });
  return { status: response.status, body: await jsonOf(response) };
}

/** Runs the whole authorization-code + PKCE flow as `user` and returns the token response. */
async function signInAs(app: App, user: { username: string; password: string }): Promise<Record<string, any>> {
  const { verifier, challenge } = pkce();
  const redirect = await approveConsentOverHttp(authorizeUrl(app, { code_challenge: challenge }), user, 'approve');
  const code = redirect.searchParams.get('code')!;
  const { status, body } = await tokenRequest(app, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  expect(status).toBe(200);
  return body;
}

async function github(path: string, token: string | null, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (init.body) headers.set('Content-Type', 'application/json');
  const response = await fetch(new URL(`/github/api${path}`, sandbox.url), { ...init, headers });
  return { status: response.status, body: await jsonOf(response), headers: response.headers };
}

async function slack(method: string, token: string | null, args: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(`/slack/api/${method}`, sandbox.url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(args),
  });
  return { status: response.status, body: (await jsonOf(response)) as Record<string, any>, headers: response.headers };
}

async function jira(path: string, authorization: string | null, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (authorization) headers.set('Authorization', authorization);
  if (init.body) headers.set('Content-Type', 'application/json');
  const response = await fetch(new URL(`/jira${path}`, sandbox.url), { ...init, headers });
  return { status: response.status, body: (await jsonOf(response)) as Record<string, any>, headers: response.headers };
}
const jiraAuth = basic(jiraServiceAccount.email, jiraServiceAccount.apiToken);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OAuth authorization server', () => {
  test('authorization code + PKCE flow through the sign-in and consent forms', async () => {
    const browser = new CookieKeepingClient();
    const { verifier, challenge } = pkce();
    const start = authorizeUrl('github', { code_challenge: challenge, state: 'xyz' });

    // Not signed in: sent to the sign-in page with a way back.
    const first = await browser.fetch(start);
    expect(first.status).toBe(302);
    const signInUrl = new URL(first.headers.get('location')!, sandbox.url);
    expect(signInUrl.pathname).toBe('/github/login');
    expect(signInUrl.searchParams.get('return_to')).toBe(new URL(start).pathname + new URL(start).search);

    const signInPage = await (await browser.fetch(signInUrl)).text();
    expect(signInPage).toMatch(/<form method="post" action="\/github\/login">/);
    expect(signInPage).toContain('name="username"');
    expect(signInPage).toContain('name="password"');
    const returnTo = /name="return_to" value="([^"]*)"/.exec(signInPage)![1]!.replace(/&#38;/g, '&');

    const form = (password: string) => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password, return_to: returnTo }).toString(),
    });
    const wrong = await browser.fetch(new URL('/github/login', sandbox.url), form('not-alice'));
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Incorrect username or password.');

    const signedIn = await browser.fetch(new URL('/github/login', sandbox.url), form('alice'));
    expect(signedIn.status).toBe(302);
    const cookie = signedIn.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Path=\/github(;|$)/);
    expect(signedIn.headers.get('location')).toBe(returnTo);

    const consent = await browser.fetch(new URL(returnTo, sandbox.url));
    expect(consent.status).toBe(200);
    const consentHtml = await consent.text();
    expect(consentHtml).toContain('Signed in to GitHub as alice');
    expect(consentHtml).toContain(clients.github.clientId);
    expect(consentHtml).toContain('repo');
    expect(consentHtml).toContain('read:user');
    expect(consentHtml).toContain('<button type="submit" name="decision" value="approve">');
    expect(consentHtml).toContain('<button type="submit" name="decision" value="deny">');
    const transaction = /name="transaction" value="([^"]+)"/.exec(consentHtml)![1]!;

    const answer = (session: CookieKeepingClient) =>
      session.fetch(new URL(authorizePath.github, sandbox.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ transaction, decision: 'approve' }).toString(),
      });
    // The transaction is bound to alice's session: another browser cannot answer it (and burns it).
    const forged = await answer(new CookieKeepingClient());
    expect(forged.status).toBe(400);
    expect(forged.headers.get('location')).toBeNull();

    // A fresh consent page, answered by alice's own browser.
    const retry = await (await browser.fetch(start)).text();
    const freshTransaction = /name="transaction" value="([^"]+)"/.exec(retry)![1]!;
    const approved = await browser.fetch(new URL(authorizePath.github, sandbox.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ transaction: freshTransaction, decision: 'approve' }).toString(),
    });
    expect(approved.status).toBe(302);
    const redirect = new URL(approved.headers.get('location')!);
    expect(redirect.origin + redirect.pathname).toBe(redirectUri);
    expect(redirect.searchParams.get('state')).toBe('xyz');
    const code = redirect.searchParams.get('code')!;
    expect(code).toBeTruthy();

    // Client authentication by HTTP Basic this time.
    const tokenResponse = await fetch(new URL(tokenPath.github, sandbox.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(clients.github.clientId, clients.github.clientSecret) },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
    });
    expect(tokenResponse.status).toBe(200);
    expect(tokenResponse.headers.get('cache-control')).toBe('no-store');
    const tokens = await jsonOf(tokenResponse);
    expect(tokens).toEqual({
      access_token: expect.stringMatching(/^ghu_[A-Za-z0-9_-]{20,}$/),
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^ghr_[A-Za-z0-9_-]{20,}$/),
      scope: 'repo,read:user',
    });

    const me = await github('/user', tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ login: 'alice', id: 1001, name: 'Alice Example', email: 'alice@example.com', type: 'User' });
  });

  test('Slack flow with client_secret_post returns the Slack-shaped token response', async () => {
    const tokens = await signInAs('slack', bob);
    expect(tokens).toMatchObject({
      ok: true,
      access_token: expect.stringMatching(/^xoxp-/),
      refresh_token: expect.stringMatching(/^xoxe-1-/),
      token_type: 'bearer',
      scope: 'chat:write,channels:read',
      authed_user: { id: 'U0BOB' },
      team: { id: 'T0ACME', name: 'Acme' },
    });
    const whoami = await slack('auth.test', tokens.access_token);
    expect(whoami.body).toMatchObject({ ok: true, team: 'Acme', user: 'bob', team_id: 'T0ACME', user_id: 'U0BOB' });
  });

  test('sessions are per app: signing in to GitHub does not sign in to Slack', async () => {
    const browser = new CookieKeepingClient();
    await approveConsentOverHttp(authorizeUrl('github', { code_challenge: pkce().challenge }), alice, 'approve', browser);
    const slackAuthorize = await browser.fetch(authorizeUrl('slack', { code_challenge: pkce().challenge }));
    expect(slackAuthorize.status).toBe(302);
    expect(slackAuthorize.headers.get('location')).toMatch(/^\/slack\/login\?return_to=/);
    const again = await browser.fetch(authorizeUrl('github', { code_challenge: pkce().challenge }));
    expect(again.status).toBe(200);
  });

  test('deny redirects with access_denied and the state', async () => {
    const redirect = await approveConsentOverHttp(authorizeUrl('slack', { code_challenge: pkce().challenge, state: 'deny-state' }), alice, 'deny');
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('state')).toBe('deny-state');
    expect(redirect.searchParams.get('code')).toBeNull();
  });

  test('bad authorize requests get a 400 page and are never redirected', async () => {
    const { challenge } = pkce();
    const cases: Record<string, string>[] = [
      { code_challenge: challenge, code_challenge_method: 'plain' },
      { code_challenge: challenge, redirect_uri: 'https://evil.example/callback' },
      { code_challenge: challenge, client_id: 'someone-else' },
      { code_challenge: challenge, response_type: 'token' },
      { code_challenge: challenge, state: '' },
      {},
    ];
    for (const params of cases) {
      const response = await fetch(authorizeUrl('github', params), { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
    }
  });

  test('a wrong PKCE verifier is invalid_grant; a reused code is invalid_grant and revokes its tokens', async () => {
    const { verifier, challenge } = pkce();
    const redirect = await approveConsentOverHttp(authorizeUrl('github', { code_challenge: challenge }), alice, 'approve');
    const code = redirect.searchParams.get('code')!;
    const exchange = (codeVerifier: string) => tokenRequest('github', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier });

    const wrongVerifier = await exchange(pkce().verifier);
    expect(wrongVerifier).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: expect.any(String) } });
    const wrongRedirect = await tokenRequest('github', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://127.0.0.1:1/other',
      code_verifier: verifier,
    });
    expect(wrongRedirect.body.error).toBe('invalid_grant');

    const first = await exchange(verifier);
    expect(first.status).toBe(200);
    expect((await github('/user', first.body.access_token)).status).toBe(200);

    const reused = await exchange(verifier);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    expect((await github('/user', first.body.access_token)).status).toBe(401);
  });

  test('token endpoint errors: client authentication, grant type, missing parameters', async () => {
    const badSecret = await fetch(new URL(tokenPath.github, sandbox.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: clients.github.clientId, client_secret: 'nope' }),
    });
    expect(badSecret.status).toBe(401);
    expect((await jsonOf(badSecret)).error).toBe('invalid_client');

    const noClient = await fetch(new URL(tokenPath.slack, sandbox.url), { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token' }) });
    expect(noClient.status).toBe(401);
    expect(await jsonOf(noClient)).toMatchObject({ ok: false, error: 'invalid_client' });

    expect(await tokenRequest('github', { grant_type: 'password' })).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(await tokenRequest('github', { grant_type: 'authorization_code' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });

    // JSON bodies are accepted too.
    const json = await fetch(new URL(tokenPath.github, sandbox.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'ghr_unknown', ...{ client_id: clients.github.clientId, client_secret: clients.github.clientSecret } }),
    });
    expect(json.status).toBe(400);
    expect((await jsonOf(json)).error).toBe('invalid_grant');
  });

  test('refresh tokens rotate; presenting a used one revokes the whole family', async () => {
    const original = await signInAs('github', alice);
    const rotated = await tokenRequest('github', { grant_type: 'refresh_token', refresh_token: original.refresh_token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).toMatch(/^ghr_/);
    expect(rotated.body.refresh_token).not.toBe(original.refresh_token);
    expect(rotated.body.access_token).not.toBe(original.access_token);
    expect((await github('/user', rotated.body.access_token)).body.login).toBe('alice');

    const replayed = await tokenRequest('github', { grant_type: 'refresh_token', refresh_token: original.refresh_token });
    expect(replayed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    // The family is gone: the newest refresh token and every access token of the grant.
    const newest = await tokenRequest('github', { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token });
    expect(newest.body.error).toBe('invalid_grant');
    expect((await github('/user', rotated.body.access_token)).status).toBe(401);
    expect((await github('/user', original.access_token)).status).toBe(401);
  });

  test('access tokens expire after the configured TTL', async () => {
    await sandboxControl(sandbox.url, '/settings', { accessTokenTtlSeconds: 1 });
    try {
      const githubTokens = await signInAs('github', alice);
      const slackTokens = await signInAs('slack', alice);
      expect(githubTokens.expires_in).toBe(1);
      expect((await github('/user', githubTokens.access_token)).status).toBe(200);
      expect((await slack('auth.test', slackTokens.access_token)).body.ok).toBe(true);
      await sleep(1100);
      const expired = await github('/user', githubTokens.access_token);
      expect(expired.status).toBe(401);
      expect(expired.body).toEqual({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      expect((await slack('auth.test', slackTokens.access_token)).body).toEqual({ ok: false, error: 'token_expired' });

      // The refresh token still works and yields a token with the TTL current at that moment.
      await sandboxControl(sandbox.url, '/settings', { accessTokenTtlSeconds: 3600 });
      const refreshed = await tokenRequest('github', { grant_type: 'refresh_token', refresh_token: githubTokens.refresh_token });
      expect(refreshed.body.expires_in).toBe(3600);
      expect((await github('/user', refreshed.body.access_token)).status).toBe(200);
    } finally {
      await sandboxControl(sandbox.url, '/settings', { accessTokenTtlSeconds: 3600 });
    }
  });

  test("RFC 7009 revocation ends the token's whole grant", async () => {
    const tokens = await signInAs('slack', alice);
    const unauthenticated = await fetch(new URL(revokePath.slack, sandbox.url), { method: 'POST', body: new URLSearchParams({ token: tokens.refresh_token }) });
    expect(unauthenticated.status).toBe(401);

    const revoked = await fetch(new URL(revokePath.slack, sandbox.url), {
      method: 'POST',
      headers: { Authorization: basic(clients.slack.clientId, clients.slack.clientSecret) },
      body: new URLSearchParams({ token: tokens.refresh_token }),
    });
    expect(revoked.status).toBe(200);
    expect((await slack('auth.test', tokens.access_token)).body).toEqual({ ok: false, error: 'token_revoked' });
    expect((await tokenRequest('slack', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).body.error).toBe('invalid_grant');
  });
});

describe('GitHub API', () => {
  let aliceToken: string;
  let bobToken: string;
  beforeAll(async () => {
    aliceToken = (await signInAs('github', alice)).access_token;
    bobToken = (await signInAs('github', bob)).access_token;
  });

  test('alice sees her private PR, bob gets 404; both see the public one', async () => {
    const secret = await github('/repos/alice/secret-plans/pulls/1', aliceToken);
    expect(secret.status).toBe(200);
    expect(secret.body).toMatchObject({ number: 1, title: 'Launch plan for Q3', state: 'open', user: { login: 'alice', id: 1001 } });

    const hidden = await github('/repos/alice/secret-plans/pulls/1', bobToken);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });

    const pull = await github('/repos/acme/widgets/pulls/1', bobToken);
    expect(pull.status).toBe(200);
    expect(pull.body).toMatchObject({
      id: expect.any(Number),
      number: 1,
      title: 'Add retry to widget sync',
      state: 'open',
      body: expect.any(String),
      html_url: `${sandbox.url}/github/web/acme/widgets/pull/1`,
      user: { login: 'alice', id: 1001 },
      head: { ref: 'retry-sync', sha: expect.stringMatching(/^[0-9a-f]{40}$/) },
      base: { ref: 'main' },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect((await github('/repos/acme/widgets/pulls/2', aliceToken)).status).toBe(404);
    expect((await github('/repos/acme/nothing/pulls/1', aliceToken)).status).toBe(404);
  });

  test('the historical "token" scheme works; missing and unknown tokens are Bad credentials', async () => {
    const response = await fetch(new URL('/github/api/user', sandbox.url), { headers: { Authorization: `token ${bobToken}` } });
    expect((await jsonOf(response)).login).toBe('bob');
    for (const token of [null, 'ghu_not-a-real-token']) {
      const result = await github('/user', token);
      expect(result.status).toBe(401);
      expect(result.body.message).toBe('Bad credentials');
    }
  });

  test("comments are created as the token's user and can be read back", async () => {
    const created = await github('/repos/acme/widgets/issues/1/comments', bobToken, { method: 'POST', body: JSON.stringify({ body: 'LGTM from bob' }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.any(Number),
      body: 'LGTM from bob',
      user: { login: 'bob', id: 1002 },
      html_url: `${sandbox.url}/github/web/acme/widgets/pull/1#issuecomment-${created.body.id}`,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const read = await github(`/repos/acme/widgets/issues/comments/${created.body.id}`, aliceToken);
    expect(read.body).toMatchObject({ id: created.body.id, body: 'LGTM from bob' });

    const state = await sandboxControl(sandbox.url, '/state');
    expect(state.githubComments).toContainEqual({ id: created.body.id, repo: 'acme/widgets', number: 1, body: 'LGTM from bob', user: 'bob' });

    const empty = await github('/repos/acme/widgets/issues/1/comments', bobToken, { method: 'POST', body: JSON.stringify({}) });
    expect(empty.status).toBe(422);
    expect(empty.body.message).toBe('Validation Failed');

    const onHidden = await github('/repos/alice/secret-plans/issues/1/comments', bobToken, { method: 'POST', body: JSON.stringify({ body: 'peek' }) });
    expect(onHidden.status).toBe(404);
  });
});

describe('Slack Web API', () => {
  let token: string;
  beforeAll(async () => {
    token = (await signInAs('slack', alice)).access_token;
  });

  test('postMessage by channel name, permalink, conversations.list', async () => {
    const posted = await slack('chat.postMessage', token, { channel: '#triage', text: 'Widget sync is failing' });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({
      ok: true,
      channel: 'C0TRIAGE',
      ts: expect.stringMatching(/^\d{10}\.\d{6}$/),
      message: { text: 'Widget sync is failing', user: 'U0ALICE' },
    });
    expect(posted.body.message.ts).toBe(posted.body.ts);

    // Form-encoded arguments and a bare channel name work as well.
    const form = await fetch(new URL('/slack/api/chat.postMessage', sandbox.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: new URLSearchParams({ channel: 'general', text: 'hello' }),
    });
    expect(await jsonOf(form)).toMatchObject({ ok: true, channel: 'C0GENERAL' });

    const permalink = await fetch(new URL(`/slack/api/chat.getPermalink?channel=C0TRIAGE&message_ts=${posted.body.ts}`, sandbox.url), {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await jsonOf(permalink)).toEqual({
      ok: true,
      channel: 'C0TRIAGE',
      permalink: `${sandbox.url}/slack/archives/C0TRIAGE/p${posted.body.ts.replace('.', '')}`,
    });

    const list = await slack('conversations.list', token);
    expect(list.body.channels).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'C0TRIAGE', name: 'triage', is_private: false }), expect.objectContaining({ id: 'C0GENERAL', name: 'general', is_private: false })]),
    );

    const state = await sandboxControl(sandbox.url, '/state');
    expect(state.slackMessages).toContainEqual({ channel: 'C0TRIAGE', ts: posted.body.ts, text: 'Widget sync is failing', user: 'U0ALICE' });
  });

  test('errors come back as ok:false with HTTP 200', async () => {
    expect((await slack('chat.postMessage', token, { channel: '#nowhere', text: 'x' })).body).toEqual({ ok: false, error: 'channel_not_found' });
    expect((await slack('chat.postMessage', token, { channel: '#triage' })).body).toEqual({ ok: false, error: 'no_text' });
    const unauthenticated = await slack('auth.test', null);
    expect(unauthenticated).toMatchObject({ status: 200, body: { ok: false, error: 'not_authed' } });
    expect((await slack('auth.test', 'xoxp-bogus')).body).toEqual({ ok: false, error: 'invalid_auth' });
  });
});

describe('Jira REST API', () => {
  test('the service account creates and reads issues; wrong or missing credentials get 401', async () => {
    const created = await jira('/rest/api/3/issue', jiraAuth, {
      method: 'POST',
      body: JSON.stringify({ fields: { project: { key: 'OPS' }, summary: 'Widget sync outage', issuetype: { name: 'Bug' }, description: 'It broke.' } }),
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^OPS-\d+$/);
    expect(created.body.id).toMatch(/^100\d\d$/);
    expect(created.body.self).toBe(`${sandbox.url}/jira/rest/api/3/issue/${created.body.id}`);
    expect(Number(created.body.id) - 10000).toBe(Number(created.body.key.slice(4)));

    const read = await jira(`/rest/api/3/issue/${created.body.key}`, jiraAuth);
    expect(read.body).toMatchObject({
      id: created.body.id,
      key: created.body.key,
      fields: { summary: 'Widget sync outage', project: { key: 'OPS' }, issuetype: { name: 'Bug' }, description: 'It broke.' },
    });
    expect((await jira(`/rest/api/3/issue/${created.body.id}`, jiraAuth)).body.key).toBe(created.body.key);
    expect((await jira('/rest/api/3/issue/OPS-999', jiraAuth)).status).toBe(404);

    const badProject = await jira('/rest/api/3/issue', jiraAuth, {
      method: 'POST',
      body: JSON.stringify({ fields: { project: { key: 'NOPE' }, summary: 'x', issuetype: { name: 'Task' } } }),
    });
    expect(badProject).toMatchObject({ status: 400, body: { errorMessages: [], errors: { project: 'valid project is required' } } });
    const noSummary = await jira('/rest/api/3/issue', jiraAuth, {
      method: 'POST',
      body: JSON.stringify({ fields: { project: { key: 'OPS' }, issuetype: { name: 'Task' } } }),
    });
    expect(noSummary.status).toBe(400);
    expect(noSummary.body.errors.summary).toEqual(expect.any(String));

    for (const authorization of [null, basic(jiraServiceAccount.email, 'wrong-token'), 'Bearer ghu_whatever']) {
      const denied = await jira('/rest/api/3/issue', authorization, {
        method: 'POST',
        body: JSON.stringify({ fields: { project: { key: 'OPS' }, summary: 'should not exist', issuetype: { name: 'Task' } } }),
      });
      expect(denied.status).toBe(401);
      expect(denied.body.errorMessages[0]).toMatch(/not authenticated/);
    }
    const state = await sandboxControl(sandbox.url, '/state');
    expect(state.jiraIssues).toContainEqual({ key: created.body.key, summary: 'Widget sync outage', reporter: 'svc-baton' });
    expect(state.jiraIssues.some((issue: { summary: string }) => issue.summary === 'should not exist')).toBe(false);

    const myself = await jira('/rest/api/3/myself', jiraAuth);
    expect(myself.body).toMatchObject({ accountId: 'svc-baton', emailAddress: jiraServiceAccount.email, displayName: 'Baton service account' });
  });
});

describe('idempotency, request log and controls', () => {
  test('a repeated Idempotency-Key replays the first response without a second effect', async () => {
    const token = (await signInAs('slack', alice)).access_token;
    const text = `deploy finished ${randomBytes(4).toString('hex')}`;
    const key = `key-${randomBytes(4).toString('hex')}`;
    const first = await slack('chat.postMessage', token, { channel: '#triage', text }, { 'Idempotency-Key': key });
    const second = await slack('chat.postMessage', token, { channel: '#triage', text }, { 'Idempotency-Key': key });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    const state = await sandboxControl(sandbox.url, '/state');
    expect(state.slackMessages.filter((message: { text: string }) => message.text === text)).toHaveLength(1);

    // Keys are per app: the same key on Jira is a different request.
    const issue = (summary: string) =>
      jira('/rest/api/3/issue', jiraAuth, {
        method: 'POST',
        headers: { 'Idempotency-Key': key },
        body: JSON.stringify({ fields: { project: { key: 'OPS' }, summary, issuetype: { name: 'Task' } } }),
      });
    const created = await issue('idempotent issue');
    const again = await issue('idempotent issue');
    expect(created.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.key).toBe(created.body.key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const { requests } = (await sandboxControl(sandbox.url, '/requests?app=slack')) as { requests: LoggedRequest[] };
    const keyed = requests.filter((entry) => entry.idempotencyKey === key);
    expect(keyed.map((entry) => entry.replayed)).toEqual([false, true]);
  });

  test('the request log names the user behind every credential', async () => {
    const aliceTokens = await signInAs('github', alice);
    const bobTokens = await signInAs('github', bob);
    const since = await lastLogSeq(sandbox.url);

    await github('/repos/acme/widgets/pulls/1', aliceTokens.access_token);
    await github('/repos/acme/widgets/pulls/1', bobTokens.access_token);
    await github('/user', 'ghu_forged');
    await jira('/rest/api/3/myself', jiraAuth);
    await tokenRequest('github', { grant_type: 'refresh_token', refresh_token: bobTokens.refresh_token });

    const { requests } = (await sandboxControl(sandbox.url, `/requests?since=${since}`)) as { requests: LoggedRequest[] };
    expect(requests).toHaveLength(5);
    expect(requests.every((entry) => entry.seq > since && !Number.isNaN(Date.parse(entry.at)))).toBe(true);
    expect(requests[0]).toMatchObject({
      app: 'github',
      method: 'GET',
      path: '/repos/acme/widgets/pulls/1',
      credential: { scheme: 'bearer', presented: aliceTokens.access_token, user: 'alice', valid: true },
      idempotencyKey: null,
      replayed: false,
      status: 200,
    });
    expect(requests[1]!.credential).toEqual({ scheme: 'bearer', presented: bobTokens.access_token, user: 'bob', valid: true });
    expect(requests[2]).toMatchObject({ path: '/user', credential: { presented: 'ghu_forged', user: null, valid: false }, status: 401 });
    expect(requests[3]).toMatchObject({
      app: 'jira',
      path: '/rest/api/3/myself',
      credential: { scheme: 'basic', presented: jiraServiceAccount.email, user: 'service-account', valid: true },
    });
    expect(requests[4]).toMatchObject({
      app: 'github',
      method: 'POST',
      path: '/login/oauth/access_token',
      grantType: 'refresh_token',
      credential: { presented: clients.github.clientId, user: 'bob', valid: true },
      status: 200,
    });

    const githubOnly = (await sandboxControl(sandbox.url, `/requests?app=github&since=${since}`)) as { requests: LoggedRequest[] };
    expect(githubOnly.requests.map((entry) => entry.app)).toEqual(['github', 'github', 'github', 'github']);

    const cleared = await fetch(new URL('/_sandbox/requests', sandbox.url), { method: 'DELETE' });
    expect(cleared.status).toBe(200);
    expect((await sandboxControl(sandbox.url, '/requests')).requests).toEqual([]);
  });

  test("revoke-user-grants invalidates that user's tokens for that app only", async () => {
    const aliceGithub = await signInAs('github', alice);
    const bobGithub = await signInAs('github', bob);
    const aliceSlack = await signInAs('slack', alice);

    const result = await sandboxControl(sandbox.url, '/revoke-user-grants', { app: 'github', user: 'alice' });
    expect(result.revokedGrants).toBeGreaterThanOrEqual(1);

    expect((await github('/user', aliceGithub.access_token)).status).toBe(401);
    expect((await tokenRequest('github', { grant_type: 'refresh_token', refresh_token: aliceGithub.refresh_token })).body.error).toBe('invalid_grant');
    expect((await github('/user', bobGithub.access_token)).status).toBe(200);
    expect((await slack('auth.test', aliceSlack.access_token)).body.ok).toBe(true);

    // alice can authorize again afterwards.
    const fresh = await signInAs('github', alice);
    expect((await github('/user', fresh.access_token)).status).toBe(200);
  });

  test('an injected delay holds a request, whose effect still lands after the caller hung up', async () => {
    const token = (await signInAs('slack', alice)).access_token;
    await sandboxControl(sandbox.url, '/delay', { app: 'slack', pathPrefix: '/chat.postMessage', ms: 600, times: 1 });
    const text = `slow message ${randomBytes(4).toString('hex')}`;

    const abort = new AbortController();
    const startedAt = Date.now();
    const doomed = fetch(new URL('/slack/api/chat.postMessage', sandbox.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ channel: '#triage', text }),
      signal: abort.signal,
    });
    await sleep(150);
    abort.abort();
    await expect(doomed).rejects.toThrow();

    const posted = () => sandboxControl(sandbox.url, '/state').then((state) => state.slackMessages.filter((message: { text: string }) => message.text === text));
    expect(await posted()).toHaveLength(0);
    await sleep(700);
    expect(await posted()).toHaveLength(1);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(600);

    const { requests } = (await sandboxControl(sandbox.url, '/requests?app=slack')) as { requests: LoggedRequest[] };
    expect(requests.at(-1)).toMatchObject({ path: '/chat.postMessage', status: 200, credential: { user: 'alice' } });

    // The rule was for one request only.
    const quickStart = Date.now();
    expect((await slack('chat.postMessage', token, { channel: '#triage', text: 'fast' })).body.ok).toBe(true);
    expect(Date.now() - quickStart).toBeLessThan(400);
  });

  test('issued-secrets lists every code, token and configured secret', async () => {
    const { verifier, challenge } = pkce();
    const redirect = await approveConsentOverHttp(authorizeUrl('github', { code_challenge: challenge }), alice, 'approve');
    const code = redirect.searchParams.get('code')!;
    const tokens = (await tokenRequest('github', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier })).body;
    const { secrets } = (await sandboxControl(sandbox.url, '/issued-secrets')) as { secrets: string[] };
    for (const secret of [code, tokens.access_token, tokens.refresh_token, clients.github.clientSecret, clients.slack.clientSecret, jiraServiceAccount.apiToken]) {
      expect(secrets).toContain(secret);
    }
  });

  test('two sandboxes in one process share no state', async () => {
    const other = await startSandbox({ clients, jiraServiceAccount });
    try {
      const token = (await signInAs('github', alice)).access_token;
      const response = await fetch(`${other.url}/github/api/user`, { headers: { Authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
      const state = await jsonOf(await fetch(`${other.url}/_sandbox/state`));
      expect(state).toEqual({ slackMessages: [], githubComments: [], jiraIssues: [] });
    } finally {
      await other.close();
    }
  });
});
