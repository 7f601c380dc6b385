/**
 * The CLI finds the development instance this project directory is running (`.baton/instance.json`, which
 * `npm start` writes), after explicit variables and before the defaults, and says what it assumed.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findDevInstance, recordDevInstance, type DevInstance } from '../core/config/dev-instance.ts';
import { devEndpoints } from '../cli/dev-token.ts';
import { gatewayUrl } from '../cli/gateway-api.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';
import { postMcp } from './support/mcp-http.ts';

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'baton-dev-instance-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let folders = 0;
/** A new, empty folder standing for a project directory. */
function projectDir(): string {
  const dir = join(scratch, `project-${(folders += 1)}`);
  mkdirSync(dir);
  return dir;
}

const instanceOn = (port: number, sandboxPort: number, pid = process.pid): DevInstance => ({
  pid,
  startedAt: new Date().toISOString(),
  publicUrl: `http://127.0.0.1:${port}`,
  mcpUrl: `http://127.0.0.1:${port}/mcp`,
  gatewayPort: port,
  sandboxUrl: `http://127.0.0.1:${sandboxPort}`,
  idpIssuer: `http://127.0.0.1:${sandboxPort}/idp`,
  temporalAddress: '127.0.0.1:7233',
  temporalUiUrl: 'http://127.0.0.1:8233',
});

/** The pid of a process that has exited: what a `baton dev` killed with SIGKILL leaves in its file. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

/** Runs the CLI as its own process, with only the environment given (no PORT, BATON_* from the test run). */
function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [baton, ...args], { cwd: options.cwd, env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', ...options.env } }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('which instance the CLI talks to', () => {
  test('variables first, then the running instance of this directory, then the defaults, field by field', () => {
    const project = projectDir();
    recordDevInstance(join(project, '.baton'), instanceOn(4100, 9200));

    expect(devEndpoints({}, project)).toEqual({ issuer: 'http://127.0.0.1:9200/idp', mcpUrl: 'http://127.0.0.1:4100/mcp', notes: [] });
    expect(devEndpoints({ PORT: '4300' }, project)).toEqual({ issuer: 'http://127.0.0.1:9200/idp', mcpUrl: 'http://127.0.0.1:4300/mcp', notes: [] });
    expect(devEndpoints({ BATON_PUBLIC_URL: 'http://localhost:5000/', PORT: '4300' }, project).mcpUrl).toBe('http://localhost:5000/mcp');
    expect(devEndpoints({ SANDBOX_PORT: '9300' }, project).issuer).toBe('http://127.0.0.1:9300/idp');
    expect(devEndpoints({ BATON_IDP_ISSUER: 'http://127.0.0.1:9400/idp', SANDBOX_PORT: '9300' }, project).issuer).toBe('http://127.0.0.1:9400/idp');

    expect(gatewayUrl(undefined, {}, project)).toEqual({ url: 'http://127.0.0.1:4100' });
    expect(gatewayUrl(undefined, { PORT: '4300' }, project)).toEqual({ url: 'http://127.0.0.1:4300' });
    expect(gatewayUrl(undefined, { BATON_URL: 'http://127.0.0.1:4400', PORT: '4300' }, project)).toEqual({ url: 'http://127.0.0.1:4400' });
    expect(gatewayUrl('http://127.0.0.1:4500', { BATON_URL: 'http://127.0.0.1:4400' }, project)).toEqual({ url: 'http://127.0.0.1:4500' });
  });

  test('the instance file is found from a subfolder of the project, and BATON_HOME names another state folder', () => {
    const project = projectDir();
    recordDevInstance(join(project, '.baton'), instanceOn(4101, 9201));
    const sub = join(project, 'src', 'tools');
    mkdirSync(sub, { recursive: true });
    expect(devEndpoints({}, sub).mcpUrl).toBe('http://127.0.0.1:4101/mcp');

    const home = join(scratch, `elsewhere-${(folders += 1)}`);
    recordDevInstance(home, instanceOn(4102, 9202));
    expect(devEndpoints({ BATON_HOME: home }, sub).mcpUrl).toBe('http://127.0.0.1:4102/mcp');
    // BATON_HOME is where to look, not where to start looking.
    expect(findDevInstance({ BATON_HOME: join(scratch, 'no-such-home') }, sub).state).toBe('none');
  });

  test('without a recorded instance: the defaults, and a note that says so and how to change them', () => {
    const project = projectDir();
    const { issuer, mcpUrl, notes } = devEndpoints({}, project);
    expect({ issuer, mcpUrl }).toEqual({ issuer: 'http://127.0.0.1:9100/idp', mcpUrl: 'http://127.0.0.1:3000/mcp' });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`no running \`npm start\` / \`baton dev\` found for this directory (no ${join(project, '.baton', 'instance.json')})`);
    expect(notes[0]).toContain('assuming the MCP endpoint http://127.0.0.1:3000/mcp (set BATON_PUBLIC_URL or PORT for another)');
    expect(notes[0]).toContain('the identity provider http://127.0.0.1:9100/idp (set BATON_IDP_ISSUER or SANDBOX_PORT for another)');
    // Only what was assumed is named.
    expect(devEndpoints({ PORT: '4000' }, project).notes[0]).not.toContain('BATON_PUBLIC_URL');
    expect(devEndpoints({ PORT: '4000', SANDBOX_PORT: '9100' }, project).notes).toEqual([]);
    expect(gatewayUrl(undefined, {}, project).note).toContain('assuming the gateway at http://127.0.0.1:3000 (set BATON_URL or --url for another)');
  });

  test('a stale instance file (its process is gone) is ignored, with a message naming it', async () => {
    const project = projectDir();
    const pid = await deadPid();
    recordDevInstance(join(project, '.baton'), instanceOn(4103, 9203, pid));
    expect(findDevInstance({}, project).state).toBe('stale');

    const { mcpUrl, notes } = devEndpoints({}, project);
    expect(mcpUrl).toBe('http://127.0.0.1:3000/mcp');
    expect(notes[0]).toContain(`${join(project, '.baton', 'instance.json')} is stale (process ${pid}`);
    expect(notes[0]).toContain('is no longer running), so it was ignored; assuming the MCP endpoint http://127.0.0.1:3000/mcp');

    // The command itself says so on stderr (its token request then fails or not, depending on what runs at the defaults).
    const { stderr } = await runCli(['token', 'alice'], { cwd: project, env: { SANDBOX_PORT: '9' } });
    expect(stderr).toContain(`baton token: ${join(project, '.baton', 'instance.json')} is stale (process ${pid}`);
    expect(stderr).toContain('assuming the MCP endpoint http://127.0.0.1:3000/mcp (set BATON_PUBLIC_URL or PORT for another)');
  });

  test('an unreadable instance file is ignored, with a message saying why', () => {
    const project = projectDir();
    mkdirSync(join(project, '.baton'));
    writeFileSync(join(project, '.baton', 'instance.json'), '{"pid": "not a number"');
    expect(devEndpoints({}, project).notes[0]).toMatch(/instance\.json could not be read \(not JSON: .*\), so it was ignored; assuming/);
  });

  test('recording is atomic, and forgetting removes only the instance that recorded itself', async () => {
    const home = join(scratch, `home-${(folders += 1)}`);
    const forgetFirst = recordDevInstance(home, instanceOn(4104, 9204));
    expect(readdirSync(home)).toEqual(['instance.json']); // no temporary file left behind
    // Another instance (another live process: this test's parent) records itself in the same folder since.
    recordDevInstance(home, instanceOn(4105, 9205, process.ppid));
    forgetFirst();
    expect(findDevInstance({ BATON_HOME: home }, scratch)).toMatchObject({ state: 'running', instance: { pid: process.ppid, gatewayPort: 4105 } });

    const forgetThird = recordDevInstance(home, instanceOn(4106, 9206));
    forgetThird();
    expect(existsSync(join(home, 'instance.json'))).toBe(false);
  });
});

describe('end to end: a token from `baton token` for an instance on a non-default port', () => {
  let gs: GatewayStack;
  gatewayStackForSuite((started) => (gs = started));

  const listTools = (token: string) => postMcp(gs.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: `Bearer ${token}` });

  test('is accepted by the gateway on that port, and the user commands reach it too', async () => {
    const project = projectDir();
    const port = Number(new URL(gs.url).port);
    expect(port).not.toBe(3000);
    // What `npm start` records once its gateway is ready (scripts/dev.ts), for this gateway and its identity provider.
    recordDevInstance(join(project, '.baton'), { ...instanceOn(port, 0), sandboxUrl: gs.stack.sandbox.url, idpIssuer: gs.stack.sandbox.idpIssuer });

    const minted = await runCli(['token', 'alice'], { cwd: project });
    expect({ status: minted.status, stderr: minted.stderr }).toEqual({ status: 0, stderr: '' });
    const token = minted.stdout.trim();
    expect((await listTools(token)).status).toBe(200);

    const runs = await runCli(['runs', '--json'], { cwd: project, env: { BATON_TOKEN: token } });
    expect({ status: runs.status, stderr: runs.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(runs.stdout)).toEqual(expect.any(Array));
  });

  test('an explicit PORT still wins: a token for the default port is refused by this gateway', async () => {
    const project = projectDir();
    recordDevInstance(join(project, '.baton'), { ...instanceOn(Number(new URL(gs.url).port), 0), sandboxUrl: gs.stack.sandbox.url, idpIssuer: gs.stack.sandbox.idpIssuer });
    const minted = await runCli(['token', 'alice'], { cwd: project, env: { PORT: '3000' } });
    expect({ status: minted.status, stderr: minted.stderr }).toEqual({ status: 0, stderr: '' });
    expect((await listTools(minted.stdout.trim())).status).toBe(401);
  });
});
