/**
 * Issue 14: apps written as code are registered the way Baton's own are. Baton's GitHub, Slack, Jira and CRM
 * connectors are an app module (apps/built-in.ts) loaded first; `appsFrom` in baton.yaml adds a builder's
 * modules the same way, for the gateway and the worker alike. A builder's app is then usable like a built-in
 * one: configured in baton.yaml, called from tools, audited. Bad modules stop the start naming the files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModuleError, builtInAppsModule } from '../core/catalogue/app-modules.ts';
import { loadSettings } from '../core/config/settings.ts';
import type { LoggedRequest } from '../sandbox/server.ts';
import { callAnything } from './fixtures/probe-tools.ts';
import { alice } from './support/identities.ts';
import { lastLogSeq, sandboxControl } from './support/sandbox-controls.ts';
import { Stack } from './support/stack.ts';

/** A builder's connector module: the sandbox CRM's status and customers, as a builder would write them (types only from Baton). */
const statusApp = `
import type { AppConnector } from '${join(process.cwd(), 'index.ts')}';
import { z } from '${import.meta.resolve('zod')}';

const readAnswer = (status: number, body: unknown) => (status === 200 ? { kind: 'ok' as const, result: body } : { kind: 'failed' as const, message: \`CRM status answered \${status}\`, retryable: status >= 500 });
export const apps: AppConnector[] = [
  {
    id: 'crm_status',
    displayName: 'CRM status',
    defaultEndpoints: { apiBaseUrl: 'https://crm.example/api' },
    defaultMode: 'none',
    actions: {
      status: { description: 'Is the CRM up?', input: z.object({}).strict(), toRequest: () => ({ method: 'GET', path: '/v1/public/status' }), readAnswer },
      customer: { description: 'One customer', input: z.object({ id: z.string().regex(/^cus_\\d+$/) }).strict(), toRequest: ({ id }: { id: string }) => ({ method: 'GET', path: \`/v1/customers/\${id}\` }), readAnswer },
    },
  },
];
`;

describe('settings', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'baton-app-modules-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const settingsWith = (yaml: string, files: Record<string, string> = {}) => {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    writeFileSync(join(dir, 'baton.yaml'), yaml);
    return loadSettings({ BATON_CONFIG: join(dir, 'baton.yaml'), BATON_HOME: dir, CRM_KEY: 'k' });
  };
  const problem = (yaml: string, files: Record<string, string> = {}) => {
    try {
      settingsWith(yaml, files);
    } catch (error) {
      return error as Error;
    }
    throw new Error('the configuration was accepted');
  };

  test('Baton’s own connectors come from its app module; appsFrom adds a builder’s after them, configurable like any app', () => {
    const settings = settingsWith(
      'appsFrom: ./status-app.ts\napps:\n  crm_status:\n    baseUrl: https://status.internal/api\n    credential: { mode: api_key, in: header, name: X-Api-Key, scope: shared, key: env:CRM_KEY }\n',
      {
        'status-app.ts': statusApp,
      },
    );
    expect([...settings.apps.keys()].slice(0, 5)).toEqual(['github', 'slack', 'jira', 'crm', 'crm_status']);
    expect(settings.apps.get('crm_status')).toMatchObject({ mode: 'api_key', endpoints: { apiBaseUrl: 'https://status.internal/api' }, connector: { displayName: 'CRM status' } });
  });

  test.each([
    ['a module that is not there', 'appsFrom: ./missing.ts\n', {}, /appsFrom names \.\/missing\.ts, but there is no .*missing\.ts \(relative to .*baton\.yaml\)\./],
    [
      'a package that is not installed',
      'appsFrom: "@acme/no-such-apps"\n',
      {},
      /appsFrom names the package "@acme\/no-such-apps", which is not installed where .*baton\.yaml is: npm install it there\./,
    ],
    ['a module that throws at import', 'appsFrom: ./broken.ts\n', { 'broken.ts': 'throw new Error("no weather today");\n' }, /The app module .*broken\.ts failed to load: no weather today/],
    [
      'a module without an array of connectors',
      'appsFrom: ./not-apps.ts\n',
      { 'not-apps.ts': 'export const apps = { id: "x" };\n' },
      /The app module .*not-apps\.ts must export an array of connectors/,
    ],
  ])('%s stops the start, naming it', (_name, yaml, files, expected) => {
    const error = problem(yaml, files);
    expect(error).toBeInstanceOf(AppModuleError);
    expect(error.message).toMatch(expected);
  });

  test('an id Baton’s own connectors already use is refused, naming both modules', () => {
    const clash = statusApp.replace("id: 'crm_status'", "id: 'github'");
    const error = problem('appsFrom: ./clash.ts\n', { 'clash.ts': clash });
    expect(error.message).toBe(`Two apps have the id "github": one in ${builtInAppsModule}, one in ${join(dir, 'clash.ts')}. App ids must be unique; rename one.`);
  });
});

describe('a builder’s coded app through a worker', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      config: (sandbox) => ({ yaml: `appsFrom: ./status-app.ts\napps:\n  crm_status:\n    baseUrl: ${sandbox.url}/crm/api\n    credential: { mode: none }\n`, files: { 'status-app.ts': statusApp } }),
    });
  }, 120_000);
  afterAll(async () => stack?.close());

  test('a run calls it like a built-in app: the request as the module builds it, the audit record, bad input refused before any request', async () => {
    const since = await lastLogSeq(stack.sandbox.url);
    const handle = await stack.run(alice, callAnything, { app: 'crm_status', action: 'status', input: {} });
    await expect(handle.result()).resolves.toEqual({ status: 'ok' });
    const [record] = await stack.stores.audit.query({ rootRunId: handle.workflowId, kind: 'app_call' });
    expect(record).toMatchObject({ app: 'crm_status', action: 'status', outcome: 'ok', actor: { subject: 'alice' } });

    const refused = await stack.run(alice, callAnything, { app: 'crm_status', action: 'customer', input: { id: '../admin' } });
    await expect(refused.result()).rejects.toThrow();
    const { requests } = (await sandboxControl(stack.sandbox.url, `/requests?app=crm&since=${since}`)) as { requests: LoggedRequest[] };
    expect(requests.map((request) => [request.method, request.path])).toEqual([['GET', '/api/v1/public/status']]);
  }, 60_000);
});
