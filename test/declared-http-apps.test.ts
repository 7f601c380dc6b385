/**
 * Issue 14, apps without code: an API without an OpenAPI document, its HTTP actions declared in baton.yaml
 * (`apps.<id>.http`) — method and path template, query and header fields, JSON body, input schema checked
 * before the call, errors reported in a 2xx body, the created object's field — used like any connector,
 * including a user's own OAuth connection with consent and RFC 7009 revocation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../core/config/settings.ts';
import type { LoggedRequest, RunningSandbox } from '../sandbox/server.ts';
import { callAnything } from './fixtures/probe-tools.ts';
import { gatewayStackForSuite, openToEveryone, type GatewayStack } from './support/gateway-stack.ts';
import { alice } from './support/identities.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

let gs: GatewayStack;

gatewayStackForSuite((started) => (gs = started), {
  config: (sandbox: RunningSandbox) => ({
    yaml: `${openToEveryone}
apps:
  crm_http:
    baseUrl: ${sandbox.url}/crm/api
    http:
      displayName: CRM (declared)
      actions:
        getCustomer:
          method: GET
          path: /v1/customers/{customerId}
          input: { type: object, properties: { customerId: { type: string, pattern: "^cus_[a-z0-9]+$" } }, required: [customerId], additionalProperties: false }
        listCustomers:
          method: GET
          path: /v1/customers
          query: [limit]
          headers: { traceId: X-Request-Trace, locale: Accept-Language }
          input: { type: object, properties: { limit: { type: integer, minimum: 1 }, traceId: { type: string }, locale: { type: string } }, additionalProperties: false }
        addNote:
          method: POST
          path: /v1/notes
          objectRef: id
          input: { type: object, properties: { customerId: { type: string }, text: { type: string, minLength: 1 } }, required: [customerId, text], additionalProperties: false }
    credential: { mode: api_key, in: header, name: X-Api-Key, scope: shared, key: env:CRM_ORG_KEY }
  slack_http:
    baseUrl: ${sandbox.url}/slack/api
    http:
      actions:
        authTest: { method: POST, path: /auth.test }
      errors: { okField: ok, messageField: error }
    credential: { mode: bearer, token: env:NOT_A_SLACK_TOKEN }
  crm_mine:
    baseUrl: ${sandbox.url}/crm/api
    http:
      displayName: My CRM
      actions:
        whoAmI: { method: GET, path: /v1/me }
    oauth: { clientId: env:CRM_CLIENT_ID, clientSecret: env:CRM_CLIENT_SECRET, authorizeUrl: ${sandbox.url}/crm/oauth/authorize, tokenUrl: ${sandbox.url}/crm/oauth/token, revokeUrl: ${sandbox.url}/crm/oauth/revoke, scopes: [customers:read] }
    credential: { mode: user_oauth }
    expose: [whoAmI]
`,
    env: {
      CRM_ORG_KEY: sandbox.crm.organisationApiKey,
      NOT_A_SLACK_TOKEN: 'xoxp-not-a-real-token',
      CRM_CLIENT_ID: sandbox.crm.clients[0]!.clientId,
      CRM_CLIENT_SECRET: sandbox.crm.clients[0]!.clientSecret,
    },
  }),
});

async function crmRequestsSince(seq: number): Promise<LoggedRequest[]> {
  return ((await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${seq}`)) as { requests: LoggedRequest[] }).requests;
}

async function call(app: string, action: string, input: Record<string, unknown>) {
  const handle = await gs.stack.run(alice, callAnything, { app, action, input });
  return { handle, result: handle.result() };
}

test('path fields fill the template, query fields the query, the rest is the JSON body; the configured key goes along', async () => {
  const since = await lastLogSeq(gs.stack.sandbox.url);
  await expect((await call('crm_http', 'getCustomer', { customerId: 'cus_1001' })).result).resolves.toMatchObject({ id: 'cus_1001' });
  await expect((await call('crm_http', 'listCustomers', { limit: 5, traceId: 'trace-7', locale: 'fr' })).result).resolves.toMatchObject({ data: expect.any(Array) });
  const { handle, result } = await call('crm_http', 'addNote', { customerId: 'cus_1001', text: 'Declared, not coded' });
  const note = (await result) as { id: string };
  const requests = await crmRequestsSince(since);
  expect(requests.map((request) => [request.method, request.path, request.query])).toEqual([
    ['GET', '/api/v1/customers/cus_1001', {}],
    ['GET', '/api/v1/customers', { limit: '5' }],
    ['POST', '/api/v1/notes', {}],
  ]);
  expect(requests.every((request) => request.headers['x-api-key'] === gs.stack.sandbox.crm.organisationApiKey)).toBe(true);
  // Header fields travel as the declared headers, and nowhere else (not in the query, not in a body).
  expect(requests[1]!.headers).toMatchObject({ 'x-request-trace': 'trace-7', 'accept-language': 'fr' });
  expect(requests.filter((request) => request.headers['x-request-trace'] !== undefined)).toHaveLength(1);
  const [appCall] = (await gs.stack.stores.audit.query({ rootRunId: handle.workflowId, kind: 'app_call' })).filter((record) => record.action === 'addNote');
  expect(appCall).toMatchObject({ app: 'crm_http', outcome: 'ok', objectRef: note.id });
});

test('input that does not match the declared schema is refused before any request', async () => {
  const since = await lastLogSeq(gs.stack.sandbox.url);
  await expect((await call('crm_http', 'getCustomer', { customerId: '../admin' })).result).rejects.toThrow();
  await expect((await call('crm_http', 'addNote', { customerId: 'cus_1001', text: 'x', author: 'mallory' })).result).rejects.toThrow();
  // A header field with a line break would end the header and start another one (X-Api-Key, say).
  const { handle, result } = await call('crm_http', 'listCustomers', { traceId: 'x\r\nX-Api-Key: stolen' });
  await expect(result).rejects.toThrow();
  const status = await handle.query<{ error: { message: string } }>('baton.status');
  expect(status.error.message).toContain('is sent as a header, so it cannot contain a line break');
  expect(await crmRequestsSince(since)).toEqual([]);
});

test('an error the API reports in a 2xx body (Slack’s ok: false) fails the call with its reason', async () => {
  const { handle, result } = await call('slack_http', 'authTest', {});
  await expect(result).rejects.toThrow();
  const status = await handle.query<{ error: { message: string } }>('baton.status');
  expect(status.error.message).toContain('slack_http answered ok: false (invalid_auth)');
});

test('with an OAuth client declared, each user connects the app with consent, and disconnecting revokes at its RFC 7009 endpoint', async () => {
  const { client, asked } = await gs.consentingClient('alice');
  const result = await client.callTool({ name: 'crm_mine__whoAmI', arguments: {} });
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toEqual({ kind: 'oauth_user', subject: 'alice' });
  expect(asked).toEqual([expect.stringContaining('My CRM')]);
  await client.close();

  const since = await lastLogSeq(gs.stack.sandbox.url);
  const response = await fetch(`${gs.url}/api/connections/crm_mine`, { method: 'DELETE', headers: { Authorization: `Bearer ${await gs.tokenFor('alice')}` } });
  expect(await response.json()).toEqual({ app: 'crm_mine', revoked: true, revokedAtProvider: true, providerError: null });
  expect((await crmRequestsSince(since)).map((request) => [request.method, request.path, request.status])).toEqual([['POST', '/oauth/revoke', 200]]);
}, 120_000);

describe('a bad declaration stops the start, naming the field', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'baton-http-apps-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const problem = (yaml: string) => {
    writeFileSync(join(dir, 'baton.yaml'), yaml);
    try {
      loadSettings({ BATON_CONFIG: join(dir, 'baton.yaml'), BATON_HOME: dir });
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('the declaration was accepted');
  };
  const action = 'actions: { get: { method: GET, path: "/things/{id}" } }';

  test.each([
    ['no base URL', `apps:\n  tickets:\n    http: { ${action} }\n    credential: { mode: none }\n`, 'apps.tickets.baseUrl: an app with declared http actions needs the base URL of its API'],
    [
      'a built-in app id',
      `apps:\n  github:\n    baseUrl: https://x.example\n    http: { ${action} }\n    credential: { mode: none }\n`,
      'apps.github.http: "github" already has a connector written as code; declare the actions under another id',
    ],
    [
      'a path field the input does not declare',
      'apps:\n  tickets:\n    baseUrl: https://x.example\n    http: { actions: { get: { method: GET, path: "/things/{id}", input: { type: object, properties: { name: { type: string } } } } } }\n    credential: { mode: none }\n',
      'apps.tickets.http.actions.get.input: "id" is used in the path, query or headers but not declared here.',
    ],
    [
      'a header field the input does not declare',
      'apps:\n  tickets:\n    baseUrl: https://x.example\n    http: { actions: { get: { method: GET, path: /x, headers: { trace: X-Trace }, input: { type: object, properties: {} } } } }\n    credential: { mode: none }\n',
      'apps.tickets.http.actions.get.input: "trace" is used in the path, query or headers but not declared here.',
    ],
    [
      'input mapped onto the credential’s header',
      'apps:\n  tickets:\n    baseUrl: https://x.example\n    http: { actions: { get: { method: GET, path: /x, headers: { token: Authorization } } } }\n    credential: { mode: none }\n',
      'apps.tickets.http.actions.get.headers.token: "Authorization" is set by Baton (the credential or the transport), never from input',
    ],
    [
      'a header name that is not one',
      'apps:\n  tickets:\n    baseUrl: https://x.example\n    http: { actions: { get: { method: GET, path: /x, headers: { token: "X Token" } } } }\n    credential: { mode: none }\n',
      'apps.tickets.http.actions.get.headers.token: "X Token" is not an HTTP header name.',
    ],
    ['no actions', 'apps:\n  tickets:\n    baseUrl: https://x.example\n    http: { actions: {} }\n    credential: { mode: none }\n', 'apps.tickets.http.actions: declare at least one action'],
    [
      'an unknown method',
      'apps:\n  tickets:\n    baseUrl: https://x.example\n    http: { actions: { get: { method: FETCH, path: /x } } }\n    credential: { mode: none }\n',
      'apps.tickets.http.actions.get.method',
    ],
  ])('%s', (_name, yaml, expected) => {
    expect(problem(yaml)).toContain(expected);
  });
});
