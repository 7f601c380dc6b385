/**
 * Issue 14: the sandbox gains an API described only by an OpenAPI document — the help desk, for which Baton
 * has no line of code — and `npm start` uses it through a declared app. This suite declares it exactly as the
 * repository's baton.yaml does (the block is read from that file), with the variables `npm start` sets, and
 * goes through the whole stack: its operations as MCP tools, consent at the help desk's own OAuth server, a
 * ticket opened as the caller, the audit trail naming the ticket, bad input refused before any request, and
 * RFC 7009 revocation when the user disconnects.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { connectorFromOpenApi } from '../apps/openapi/connector-from-openapi.ts';
import { loadOpenApiDocument } from '../apps/openapi/load-openapi.ts';
import { helpdeskEnvironment } from '../scripts/dev-environment.ts';
import type { HelpdeskTicket, LoggedRequest, RunningSandbox } from '../sandbox/server.ts';
import { gatewayStackForSuite, openToEveryone, type GatewayStack } from './support/gateway-stack.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

/** The help desk's declaration in the repository's baton.yaml, the one `npm start` runs. */
const declared = (parse(readFileSync(new URL('../baton.yaml', import.meta.url), 'utf8')) as { apps: Record<string, unknown> }).apps.helpdesk;

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started), {
  config: (sandbox: RunningSandbox) => ({
    // JSON is YAML: the block goes in as it is in baton.yaml.
    yaml: `${openToEveryone}apps:\n  helpdesk: ${JSON.stringify(declared)}\n`,
    env: helpdeskEnvironment(sandbox.helpdesk.clients[0]!, sandbox.url),
  }),
});

const helpdeskApiSince = async (seq: number) =>
  ((await sandboxControl(gs.stack.sandbox.url, `/requests?app=helpdesk&since=${seq}`)) as { requests: LoggedRequest[] }).requests.filter((request) => request.path.startsWith('/api/'));
const tickets = async () => ((await sandboxControl(gs.stack.sandbox.url, '/helpdesk')) as { tickets: HelpdeskTicket[] }).tickets;

test('baton.yaml declares the help desk from its document alone: user_oauth, every operation exposed', () => {
  expect(declared).toMatchObject({ openapi: { document: 'env:BATON_HELPDESK_OPENAPI_URL' }, credential: { mode: 'user_oauth' }, expose: true });
  expect(Object.keys(declared as object)).not.toContain('http');
});

test('each operation is an MCP tool with the input schema its parameters and body give', async () => {
  const client = await gs.connect(await gs.tokenFor('alice'));
  const { tools } = await client.listTools();
  const helpdeskTools = tools.filter((tool) => tool.name.startsWith('helpdesk__'));
  expect(helpdeskTools.map((tool) => tool.name).sort()).toEqual(['helpdesk__closeTicket', 'helpdesk__createTicket', 'helpdesk__getTicket', 'helpdesk__listTickets', 'helpdesk__whoAmI']);
  expect(helpdeskTools.find((tool) => tool.name === 'helpdesk__getTicket')?.inputSchema).toMatchObject({
    properties: { ticketId: { type: 'string', pattern: '^HD-[0-9]+$' } },
    required: ['ticketId'],
  });
  expect(helpdeskTools.find((tool) => tool.name === 'helpdesk__createTicket')?.inputSchema).toMatchObject({
    properties: { body: { properties: { priority: { enum: ['low', 'normal', 'high', 'urgent'] } }, required: ['title'] } },
  });
  await client.close();
}, 60_000);

test('alice opens a ticket as herself: one consent at the help desk, the ticket reported by alice, the audit trail names it', async () => {
  const { client, asked } = await gs.consentingClient('alice');
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const result = await client.callTool({ name: 'helpdesk__createTicket', arguments: { body: { title: 'VPN drops every hour', priority: 'high' } } });
  expect(result.isError).toBeFalsy();
  const ticket = result.structuredContent as { id: string; reporter: string; status: string };
  expect(ticket).toMatchObject({ id: expect.stringMatching(/^HD-\d+$/), reporter: 'alice', status: 'open' });
  expect(asked).toHaveLength(1);
  expect(asked[0]).toContain('Help desk');

  // The help desk saw alice's own OAuth token, on one request.
  const requests = await helpdeskApiSince(since);
  expect(requests.map((request) => [request.method, request.path, request.credential.kind, request.credential.user])).toEqual([['POST', '/api/v1/tickets', 'oauth_user', 'alice']]);
  expect((await tickets()).find((stored) => stored.id === ticket.id)).toMatchObject({ reporter: 'alice', reporterKind: 'oauth_user', priority: 'high' });

  const runId = String((result._meta as Record<string, unknown>)['baton/runId']);
  const [call] = (await gs.stack.stores.audit.query({ rootRunId: runId, kind: 'app_call' })).filter((record) => record.outcome === 'ok');
  expect(call).toMatchObject({ app: 'helpdesk', action: 'createTicket', objectRef: ticket.id, actor: { subject: 'alice' } });
  await expectNoSecretsInHistories(gs.stack);
  await client.close();
}, 120_000);

test('bob is asked to connect his own help desk account: alice’s connection never serves him', async () => {
  const { client, asked } = await gs.consentingClient('bob');
  const result = await client.callTool({ name: 'helpdesk__whoAmI', arguments: {} });
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toEqual({ subject: 'bob', kind: 'oauth_user' });
  expect(asked).toHaveLength(1);
  await client.close();
}, 120_000);

test('input the document does not allow is refused before any request reaches the help desk', async () => {
  const client = await gs.connect(await gs.tokenFor('alice'));
  const since = await lastLogSeq(gs.stack.sandbox.url);
  // The gateway checks arguments against the tool's input schema (the operation's) and refuses with a protocol error naming the field.
  const refusal = (name: string, args: Record<string, unknown>) =>
    client.callTool({ name, arguments: args }).then(
      (result) => `answered: ${JSON.stringify(result)}`,
      (error: unknown) => (error as Error).message,
    );
  expect(await refusal('helpdesk__createTicket', { body: { title: 'x', priority: 'whenever' } })).toContain('Invalid arguments for "helpdesk__createTicket": body.priority');
  expect(await refusal('helpdesk__getTicket', { ticketId: '../admin' })).toContain('Invalid arguments for "helpdesk__getTicket": ticketId');
  expect(await refusal('helpdesk__createTicket', { body: { title: 'x', reporter: 'mallory' } })).toContain('Invalid arguments for "helpdesk__createTicket": body');
  expect(await helpdeskApiSince(since)).toEqual([]);
  await client.close();
}, 60_000);

test('disconnecting revokes alice’s token at the help desk (RFC 7009, the revokeUrl npm start sets); her next call asks again', async () => {
  const token = await gs.tokenFor('alice');
  const since = await lastLogSeq(gs.stack.sandbox.url);
  const response = await fetch(`${gs.url}/api/connections/helpdesk`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
  expect({ status: response.status, json: await response.json() }).toEqual({ status: 200, json: { app: 'helpdesk', revoked: true, revokedAtProvider: true, providerError: null } });
  const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=helpdesk&since=${since}`)) as { requests: LoggedRequest[] };
  expect(requests.map((request) => [request.method, request.path, request.status])).toEqual([['POST', '/oauth/revoke', 200]]);
  expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'alice', 'helpdesk')).toBeUndefined();

  const { client, asked } = await gs.consentingClient('alice');
  const again = await client.callTool({ name: 'helpdesk__whoAmI', arguments: {} });
  expect(again.structuredContent).toEqual({ subject: 'alice', kind: 'oauth_user' });
  expect(asked).toHaveLength(1);
  await client.close();
}, 120_000);

describe('the help desk itself', () => {
  const api = (path: string, init: RequestInit = {}) => fetch(`${gs.stack.sandbox.url}/helpdesk/api${path}`, init);
  const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json', 'x-helpdesk-key': gs.stack.sandbox.helpdesk.organisationApiKey }, body: JSON.stringify(body) });

  test('the organisation key opens and closes tickets as org:acme; a wrong key, no credential or two credentials are 401', async () => {
    const opened = await api('/v1/tickets', json({ title: 'Printer on fire' }));
    expect(opened.status).toBe(201);
    const { id } = (await opened.json()) as { id: string };
    const closed = await api(`/v1/tickets/${id}/close`, json({ resolution: 'Extinguished' }));
    expect(await closed.json()).toMatchObject({ id, status: 'closed', reporter: 'org:acme', closedBy: 'org:acme', resolution: 'Extinguished' });
    expect((await api('/v1/tickets', { headers: { 'x-helpdesk-key': 'hd_org_wrong' } })).status).toBe(401);
    expect((await api('/v1/tickets')).status).toBe(401);
    const both = await api('/v1/tickets', { headers: { 'x-helpdesk-key': gs.stack.sandbox.helpdesk.organisationApiKey, authorization: 'Bearer hd_at_x' } });
    expect({ status: both.status, body: await both.json() }).toMatchObject({ status: 401, body: { error: 'multiple_credentials' } });
  });

  test('its document validates, and its security schemes suggest user OAuth with its own endpoints and scopes', async () => {
    const { openApiUrl } = gs.stack.sandbox.helpdesk;
    const document = await loadOpenApiDocument(openApiUrl, { baseDir: process.cwd(), allowRemoteRefs: false });
    const connector = connectorFromOpenApi(document, { id: 'helpdesk', source: openApiUrl });
    expect(connector).toMatchObject({
      displayName: 'Help desk',
      defaultMode: 'user_oauth',
      defaultEndpoints: { apiBaseUrl: `${gs.stack.sandbox.url}/helpdesk/api`, tokenUrl: `${gs.stack.sandbox.url}/helpdesk/oauth/token` },
      oauth: { defaultScopes: ['tickets:read', 'tickets:write'] },
    });
  });
});
