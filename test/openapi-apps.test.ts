/**
 * Issue 14, apps without code: an app declared in baton.yaml from an OpenAPI 3.x document (the sandbox CRM
 * publishes one) is used like a connector — actions from operations, inputs checked before any call, the
 * credential the security schemes suggest — and every bad document is refused naming the file and the pointer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectorFromOpenApi } from '../apps/openapi/connector-from-openapi.ts';
import { OpenApiError } from '../apps/openapi/errors.ts';
import { loadOpenApiDocument } from '../apps/openapi/load-openapi.ts';
import { crmOpenApiDocument } from '../sandbox/crm-openapi.ts';
import { declaredCrmNote } from './fixtures/probe-tools.ts';
import { alice } from './support/identities.ts';
import type { LoggedRequest, RunningSandbox } from '../sandbox/server.ts';
import { gatewayStackForSuite, openToEveryone, type GatewayStack } from './support/gateway-stack.ts';
import { expectNoSecretsInHistories } from './support/history-secrets.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-openapi-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a document (an object as JSON) into the suite's folder and returns its file name. */
function documentFile(name: string, document: unknown): string {
  writeFileSync(join(dir, name), JSON.stringify(document));
  return name;
}

const crmDocument = () => crmOpenApiDocument('https://crm.example/crm') as { paths: Record<string, Record<string, unknown>> } & Record<string, unknown>;

describe('a document becomes a connector', () => {
  test('each operation an action, inputs from parameters and the JSON body, base URL and credential from the document', async () => {
    const document = await loadOpenApiDocument(documentFile('crm.json', crmDocument()), { baseDir: dir });
    const connector = connectorFromOpenApi(document, { id: 'acme_crm', source: 'crm.json', objectRefField: 'id' });
    expect(Object.keys(connector.actions).sort()).toEqual(['addNote', 'getCustomer', 'getMe', 'listCustomers']);
    expect(connector).toMatchObject({
      displayName: 'Acme CRM',
      defaultMode: 'user_oauth',
      defaultEndpoints: { apiBaseUrl: 'https://crm.example/crm/api', authorizeUrl: 'https://crm.example/crm/oauth/authorize', tokenUrl: 'https://crm.example/crm/oauth/token' },
      oauth: { defaultScopes: ['customers:read', 'notes:write'] },
    });
    const getCustomer = connector.actions.getCustomer!;
    expect(getCustomer.toRequest(getCustomer.input.parse({ customerId: 'cus_1001' }))).toEqual({ method: 'GET', path: '/v1/customers/cus_1001' });
    // Checked before any call: the path parameter's pattern, the body's required fields, nothing unknown.
    expect(getCustomer.input.safeParse({ customerId: '../admin' }).success).toBe(false);
    const addNote = connector.actions.addNote!;
    expect(addNote.input.safeParse({ body: { customerId: 'cus_1001' } }).success).toBe(false);
    expect(addNote.input.safeParse({ body: { customerId: 'cus_1001', text: 'hi' }, extra: 1 }).success).toBe(false);
    expect(addNote.toRequest({ body: { customerId: 'cus_1001', text: 'hi' } })).toEqual({ method: 'POST', path: '/v1/notes', body: { customerId: 'cus_1001', text: 'hi' } });
    expect(addNote.readAnswer(201, { id: 'note_7' })).toEqual({ kind: 'ok', result: { id: 'note_7' }, objectRef: 'note_7' });
    expect(getCustomer.readAnswer(401, { message: 'expired' })).toEqual({ kind: 'credential_rejected', message: 'Acme CRM refused the credential (401: expired)' });
  });

  test('operations: narrows the actions; an operation that does not exist is named with the ones that do', async () => {
    const document = await loadOpenApiDocument(documentFile('crm.json', crmDocument()), { baseDir: dir });
    expect(Object.keys(connectorFromOpenApi(document, { id: 'acme_crm', source: 'crm.json', operations: ['getCustomer'] }).actions)).toEqual(['getCustomer']);
    expect(() => connectorFromOpenApi(document, { id: 'acme_crm', source: 'crm.json', operations: ['deleteEverything'] })).toThrow(
      'crm.json has no operation "deleteEverything" (apps.acme_crm.openapi.operations); it has: getMe, listCustomers, getCustomer, addNote.',
    );
  });
});

describe('bad documents are refused, naming the file and the JSON pointer', () => {
  const refused = async (name: string, document: unknown, options: { allowRemoteRefs?: boolean } = {}) => {
    try {
      connectorFromOpenApi(await loadOpenApiDocument(documentFile(name, document), { baseDir: dir, ...options }), { id: 'bad', source: name });
    } catch (error) {
      expect(error).toBeInstanceOf(OpenApiError);
      return error as OpenApiError;
    }
    throw new Error(`${name} was accepted`);
  };

  test('not parseable, not valid OpenAPI, not OpenAPI 3', async () => {
    writeFileSync(join(dir, 'broken.json'), '{ "openapi": ');
    await expect(loadOpenApiDocument('broken.json', { baseDir: dir })).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining(join(dir, 'broken.json')) });
    const document = crmDocument();
    (document.paths['/v1/me']!.get as Record<string, unknown>).parameters = [{ name: 'q', in: 'nowhere', schema: { type: 'string' } }];
    const invalid = await refused('bad-parameter.json', document);
    expect(invalid.code).toBe('invalid');
    expect(invalid.message).toContain(join(dir, 'bad-parameter.json'));
    expect(invalid.message).toContain('#/paths/~1v1~1me/get/parameters/0/in must be equal to one of the allowed values');
    const swagger = await refused('swagger2.json', { swagger: '2.0', info: { title: 'Old', version: '1' }, paths: {} });
    expect(swagger.message).toMatch(/is not an OpenAPI 3\.x document|not a valid OpenAPI document/);
    await expect(loadOpenApiDocument('missing.json', { baseDir: dir })).rejects.toMatchObject({
      code: 'unreadable',
      message: `Cannot read the OpenAPI document ${join(dir, 'missing.json')}: no such file.`,
    });
  });

  test('two operations with one id: both pointers named', async () => {
    const document = crmDocument();
    (document.paths['/v1/customers']!.get as Record<string, unknown>).operationId = 'getMe';
    const error = await refused('duplicate.json', document);
    expect(error.message).toBe('duplicate.json: two operations are named "getMe" (#/paths/~1v1~1me/get and #/paths/~1v1~1customers/get); give each a unique operationId.');
  });

  test('an operation Baton cannot send: the operation’s pointer and what to do', async () => {
    const document = crmDocument();
    (document.paths['/v1/me']!.get as Record<string, unknown>).parameters = [{ name: 'X-Tenant', in: 'header', required: true, schema: { type: 'string' } }];
    const error = await refused('header.json', document);
    expect(error).toMatchObject({ code: 'unsupported_operation' });
    expect(error.message).toBe(
      'header.json #/paths/~1v1~1me/get: header parameter "X-Tenant" cannot be sent yet (only path and query parameters and a JSON body); leave the operation out with openapi.operations.',
    );
  });

  test('a $ref to another server is refused unless allowed', async () => {
    const document = crmDocument();
    (document.components as { schemas: Record<string, unknown> }).schemas.NewNote = { $ref: 'http://127.0.0.1:9/schemas/note.json' };
    const error = await refused('remote.json', document);
    expect(error.code).toBe('remote_ref');
    expect(error.message).toContain('Baton fetches only the document itself unless openapi.allowRemoteRefs is true');
  });
});

describe('a declared app through the whole stack', () => {
  let gs: GatewayStack;
  const crmApiRequestsSince = async (seq: number) =>
    ((await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${seq}`)) as { requests: LoggedRequest[] }).requests.filter((request) => request.path.startsWith('/api/'));
  gatewayStackForSuite((started) => (gs = started), {
    config: (sandbox: RunningSandbox) => ({
      yaml: `${openToEveryone}apps:
  acme_crm:
    openapi: { document: env:CRM_OPENAPI_URL, objectRef: id }
    oauth: { clientId: env:CRM_CLIENT_ID, clientSecret: env:CRM_CLIENT_SECRET, revokeUrl: ${sandbox.url}/crm/oauth/revoke }
    credential: { mode: user_oauth }
    expose: [getCustomer]
`,
      env: { CRM_OPENAPI_URL: `${sandbox.url}/crm/openapi.json`, CRM_CLIENT_ID: sandbox.crm.clients[0]!.clientId, CRM_CLIENT_SECRET: sandbox.crm.clients[0]!.clientSecret },
    }),
  });

  test('a tool calls the declared CRM and GitHub as the caller: one prompt for both, consent, the result, the audit trail', async () => {
    const { client, asked } = await gs.consentingClient('alice');
    const since = await lastLogSeq(gs.stack.sandbox.url);
    const result = await client.callTool({ name: 'declared_crm_note', arguments: { customerId: 'cus_1001' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ customer: expect.any(String), noteAuthor: 'alice', githubLogin: 'alice' });
    expect(asked).toHaveLength(2);
    expect(asked.join(' ')).toContain('Acme CRM');

    // The CRM saw alice's own OAuth token on each API call.
    const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
    const apiCalls = requests.filter((request) => request.path.startsWith('/api/'));
    expect(apiCalls.map((request) => [request.method, request.path, request.credential.user])).toEqual([
      ['GET', '/api/v1/customers/cus_1001', 'alice'],
      ['POST', '/api/v1/notes', 'alice'],
    ]);
    const runId = String((result._meta as Record<string, unknown>)['baton/runId']);
    const calls = (await gs.stack.stores.audit.query({ rootRunId: runId, kind: 'app_call' })).filter((record) => record.app === 'acme_crm');
    // The first read found no CRM connection (the run paused for consent there), the retry went through.
    expect(calls.map((record) => [record.action, record.outcome, record.actor.subject]).sort()).toEqual([
      ['addNote', 'ok', 'alice'],
      ['getCustomer', 'connection_required', 'alice'],
      ['getCustomer', 'ok', 'alice'],
    ]);
    expect(calls.find((record) => record.action === 'addNote')?.objectRef).toBe((result.structuredContent as { noteId: string }).noteId);
    await expectNoSecretsInHistories(gs.stack);
    await client.close();
  }, 120_000);

  test('expose: an operation served as an MCP tool, run as the caller with her own connection; the others are not tools', async () => {
    const client = await gs.connect(await gs.tokenFor('alice'));
    const { tools } = await client.listTools();
    const exposed = tools.find((tool) => tool.name === 'acme_crm__getCustomer');
    expect(exposed?.inputSchema).toMatchObject({ type: 'object', properties: { customerId: { type: 'string', pattern: '^cus_\\w+$' } }, required: ['customerId'] });
    expect(tools.map((tool) => tool.name)).not.toContain('acme_crm__addNote');
    const since = await lastLogSeq(gs.stack.sandbox.url);
    const result = await client.callTool({ name: 'acme_crm__getCustomer', arguments: { customerId: 'cus_1001' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: 'cus_1001' });
    const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
    expect(requests.filter((request) => request.path.startsWith('/api/')).map((request) => [request.path, request.credential.user])).toEqual([['/api/v1/customers/cus_1001', 'alice']]);
    await expect(client.callTool({ name: 'acme_crm__addNote', arguments: { body: { customerId: 'cus_1001', text: 'x' } } })).rejects.toThrow(/Unknown tool|not.*tool|tools\/list/i);
    await client.close();
  }, 120_000);

  test('the worker refuses an action that is not exposed, even when a run names it directly', async () => {
    const since = await lastLogSeq(gs.stack.sandbox.url);
    const notExposed = { ...declaredCrmNote, name: 'acme_crm__addNote', input: z.record(z.string(), z.unknown()) };
    const handle = await gs.stack.run(alice, notExposed, { body: { customerId: 'cus_1001', text: 'sneaked in' } });
    await expect(handle.result()).rejects.toThrow();
    const status = await handle.query<{ error: { type: string; message: string } }>('baton.status');
    expect(status.error).toEqual({ type: 'UnknownAction', message: 'Acme CRM does not expose "addNote" as a tool (apps.acme_crm.expose).' });
    expect(await crmApiRequestsSince(since)).toEqual([]);
  }, 120_000);

  test('input that does not match the operation is refused before any call to the CRM', async () => {
    const client = await gs.connect(await gs.tokenFor('alice'));
    const since = await lastLogSeq(gs.stack.sandbox.url);
    const result = await client.callTool({ name: 'declared_crm_note', arguments: { customerId: '../../admin' } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('getCustomer');
    const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
    expect(requests.filter((request) => request.path.startsWith('/api/'))).toEqual([]);
    await client.close();
  }, 120_000);

  test('disconnecting the declared app revokes alice’s token at the CRM (RFC 7009, the configured revokeUrl)', async () => {
    const token = await gs.tokenFor('alice');
    const since = await lastLogSeq(gs.stack.sandbox.url);
    const response = await fetch(`${gs.url}/api/connections/acme_crm`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    expect({ status: response.status, json: await response.json() }).toEqual({ status: 200, json: { app: 'acme_crm', revoked: true, revokedAtProvider: true, providerError: null } });
    const { requests } = (await sandboxControl(gs.stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
    expect(requests.map((request) => [request.method, request.path, request.status])).toEqual([['POST', '/oauth/revoke', 200]]);
    expect(await gs.stack.stores.vault.getConnectionInfo('acme', 'alice', 'acme_crm')).toBeUndefined();
  }, 120_000);
});
