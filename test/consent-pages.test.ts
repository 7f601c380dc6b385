/** The browser half of consent over real HTTP: /connect/:id → the app's consent form → /oauth/callback. */
import express from 'express';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { consentRoutes } from '../gateway/http/consent-routes.ts';
import { approveConsentOverHttp } from '../sandbox/browserless-consent.ts';
import { commentOnPullRequest } from './fixtures/probe-tools.ts';
import { alice, passwordOf } from './support/identities.ts';
import { Stack } from './support/stack.ts';

let stack: Stack;
let server: Server;
let base: string;

beforeAll(async () => {
  stack = await Stack.start();
  server = express().use(consentRoutes(stack.connectFlow)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  server?.close();
  await stack?.close();
});

/** The app redirects to Baton's configured public URL; send that request to this test server instead. */
const toTestServer = (redirect: URL) => `${base}${redirect.pathname}${redirect.search}`;

test('a paused run resumes when the user follows its consent link and approves', async () => {
  const handle = await stack.run(alice, commentOnPullRequest, { repo: 'acme/widgets', number: 1, body: 'via the consent page' });
  const { pending } = await stack.awaitOutcome(handle);
  const link = await fetch(`${base}/connect/${pending[0]!.consentId}`, { redirect: 'manual' });
  expect(link.status).toBe(302);
  const authorize = new URL(link.headers.get('location')!);
  expect(authorize.pathname).toBe('/github/login/oauth/authorize');

  const redirect = await approveConsentOverHttp(authorize.toString(), passwordOf(alice), 'approve');
  const page = await fetch(toTestServer(redirect));
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('Connected GitHub as alice. 1 waiting run resumed');
  expect(await handle.result()).toMatchObject({ body: 'via the consent page' });

  // The same callback again (a replay) finds nothing and changes nothing.
  const replay = await fetch(toTestServer(redirect));
  expect(replay.status).toBe(400);
  expect(await replay.text()).toContain('This sign-in link has expired or was already used');
  expect(stack.stores.vault.getConnectionInfo('acme', 'alice', 'github')?.status).toBe('active');
});

test('bad links get a clear page, not a crash', async () => {
  const unknown = await fetch(`${base}/connect/does-not-exist`, { redirect: 'manual' });
  expect(unknown.status).toBe(400);
  expect(await unknown.text()).toContain('There is no consent request');

  const forgedState = await fetch(`${base}/oauth/callback?code=abc&state=forged`);
  expect(forgedState.status).toBe(400);
  expect(await forgedState.text()).toContain('This sign-in link has expired or was already used');
});
