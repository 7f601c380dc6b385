/**
 * Issue 14: a builder's project outside Baton, as a new builder makes it — `baton init`, `npm install` of this
 * checkout, a tool of their own in `tools/`, `npx baton dev` — then a real MCP client calls the tool as alice,
 * consents in the (browserless) browser, gets the result; saving the tool reloads the worker and the gateway;
 * a tool that imports node:fs is refused with the file and the import named.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { followConsentLink } from '../sandbox/browserless-consent.ts';
import { freePort } from '../scripts/free-port.ts';
import { until } from './support/until.ts';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const batonBin = join(repo, 'bin', 'baton.js');
// Node 24 (this test's own) first on PATH, as `npm install` puts a project's node_modules/.bin there.
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };

let workspace: string;
let project: string;
let dev: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'baton-builder-'));
  project = join(workspace, 'my-tools');
  await run(process.execPath, [batonBin, 'init', project], { env, cwd: workspace });
  await run('npm', ['install', '--no-audit', '--no-fund'], { env, cwd: project });
}, 120_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev!.once('exit', resolve));
    process.kill(-dev.pid!, 'SIGTERM');
    await exited;
  }
  rmSync(workspace, { recursive: true, force: true });
});

/** Waits for a line of `baton dev`'s output after `from` (an offset into it), returning where it ends. */
async function devSays(text: string | RegExp, from = 0): Promise<number> {
  return until(
    () => `baton dev to say ${String(text)} (${dev?.exitCode === null ? 'still running' : `exited with ${dev?.exitCode ?? dev?.signalCode}`}; it said:\n${output.slice(from)})`,
    () => {
      const rest = output.slice(from);
      const at = typeof text === 'string' ? rest.indexOf(text) : rest.search(text);
      return at >= 0 ? from + at + 1 : undefined;
    },
    120_000,
  );
}

test('baton init writes a project that depends on this Baton and names its tools', () => {
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  expect(manifest.dependencies.baton).toBe(`file:${repo.replace(/[\\/]$/, '')}`);
  expect(readFileSync(join(project, 'baton.yaml'), 'utf8')).toContain('toolsFrom: ./tools/index.ts');
  expect(readFileSync(join(project, 'tools', 'github-profile.ts'), 'utf8')).toContain("from 'baton/sdk'");
});

test('baton init refuses a folder that is not empty, writing nothing', async () => {
  await expect(run(process.execPath, [batonBin, 'init', project], { env, cwd: workspace })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('is not empty; pick a new folder (nothing was written)'),
  });
});

test('the project’s own test runs its tool with baton/testing: fake GitHub answer, acting as alice', async () => {
  const { stdout } = await run('npm', ['test'], { env, cwd: project });
  expect(stdout).toMatch(/(# |ℹ )pass 1\n/);
  expect(stdout).toMatch(/(# |ℹ )fail 0\n/);
}, 120_000);

test('npx baton dev runs the project’s tool as the caller, reloads it when saved, and refuses a tool importing node:fs', async () => {
  const ports = {
    PORT: await freePort(),
    SANDBOX_PORT: await freePort(),
    BATON_TEMPORAL_PORT: await freePort(),
    BATON_TEMPORAL_UI_PORT: await freePort(),
    BATON_WORKER_METRICS_PORT: await freePort(),
  };
  // `--no`: the project's own bin or a clear error, never a download of some other `baton` from the registry; no
  // update check either (this machine may not reach the registry, and npm would wait for it).
  dev = spawn('npx', ['--no', 'baton', 'dev'], {
    cwd: project,
    env: {
      ...env,
      npm_config_update_notifier: 'false',
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  dev.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let seen = await devSays('baton: ready.');
  expect(output).toContain('watching tools: saving a tool file reloads the worker and the gateway');

  const baseUrl = `http://127.0.0.1:${ports.PORT}`;
  const { stdout: token } = await run(process.execPath, [batonBin, 'token', 'alice'], { env, cwd: project });
  const connect = async () => {
    const client = new Client({ name: 'builder-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token.trim()}` } } }));
    return client;
  };
  let client = await connect();
  expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['github_profile', 'note_customer', 'get_run_result']);

  // Nothing connected: the answer carries Baton's consent link for GitHub; alice follows it, then calls again.
  const first = await client.callTool({ name: 'github_profile', arguments: {} });
  const links = (first.structuredContent as { status: string; authorizationUrls: Record<string, string> }).authorizationUrls;
  expect(Object.keys(links)).toEqual(['github']);
  const idpIssuer = `http://127.0.0.1:${ports.SANDBOX_PORT}/idp`;
  expect((await followConsentLink(links.github!, { batonUrl: baseUrl, idpIssuer, user: 'alice' })).status).toBe(200);
  const second = await client.callTool({ name: 'github_profile', arguments: {} });
  expect(second.structuredContent).toEqual({ login: 'alice' });

  // The project's tool over the CRM its baton.yaml declares from an OpenAPI document, and GitHub: alice connects the CRM.
  const noteArguments = { customerId: 'cus_1001', text: 'Renewal call' };
  const asksForCrm = await client.callTool({ name: 'note_customer', arguments: noteArguments });
  const crmLinks = (asksForCrm.structuredContent as { authorizationUrls: Record<string, string> }).authorizationUrls;
  expect(Object.keys(crmLinks)).toEqual(['acme_crm']);
  expect((await followConsentLink(crmLinks.acme_crm!, { batonUrl: baseUrl, idpIssuer, user: 'alice' })).status).toBe(200);
  const noted = await client.callTool({ name: 'note_customer', arguments: noteArguments });
  expect(noted.structuredContent).toMatchObject({ customer: expect.any(String), noteId: expect.stringMatching(/^note_/), author: 'alice' });
  await client.close();

  // The builder edits the tool: the worker and the gateway reload, and the next call runs the new code.
  const toolFile = join(project, 'tools', 'github-profile.ts');
  writeFileSync(
    toolFile,
    readFileSync(toolFile, 'utf8')
      .replace('return { login: me.login };', 'return { login: me.login, greeting: `hello ${me.login}` };')
      .replace("description: 'Your GitHub login, read with your own GitHub account.'", "description: 'Your GitHub login and a greeting.'"),
  );
  seen = await devSays('baton: reloaded.', seen);
  client = await connect();
  // Both halves reloaded: the gateway lists the tool as it is now, the worker runs the new code.
  expect((await client.listTools()).tools.find((tool) => tool.name === 'github_profile')?.description).toBe('Your GitHub login and a greeting.');
  expect((await client.callTool({ name: 'github_profile', arguments: {} })).structuredContent).toEqual({ login: 'alice', greeting: 'hello alice' });
  await client.close();

  // A tool that reads a file in workflow code: refused with the file and the import named; dev keeps running.
  const index = join(project, 'tools', 'index.ts');
  const originalIndex = readFileSync(index, 'utf8');
  writeFileSync(
    join(project, 'tools', 'read-file.ts'),
    "import { readFileSync } from 'node:fs';\nimport { defineTool, z } from 'baton/sdk';\nexport const readFile = defineTool({ name: 'read_file', description: 'Reads a file.', input: z.object({}) }, async () => ({ text: readFileSync('/etc/hostname', 'utf8') }));\n",
  );
  writeFileSync(index, `${originalIndex}import { readFile } from './read-file.ts';\ntools.push(readFile);\n`);
  const beforeBadTool = seen;
  await devSays('baton: reloading failed', seen);
  const failure = output.slice(beforeBadTool);
  expect(failure).toContain('  tools/read-file.ts imports node:fs\n');
  expect(failure).toContain('Do that work in an app call (app(...).call) or an activity instead');

  // baton dev is still there: taking the tool out again brings the worker back.
  writeFileSync(index, originalIndex);
  await devSays('baton: reloaded.', output.length);
}, 300_000);
