/**
 * `npm test`: type-checks, starts one Temporal dev server and bundles workflow code once for the
 * whole suite, then runs jest (extra arguments go to jest, e.g. `npm test -- test/vault.test.ts`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflows } from '../worker/bundle.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

function run(step: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  console.log(`test: ${step}`);
  const { status } = spawnSync(command, args, { stdio: 'inherit', env, cwd: root });
  if (status !== 0) {
    console.error(`test: ${step} failed`);
    process.exit(status ?? 1);
  }
}

run('type-checking (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', root]);

const workDir = join(root, '.baton', 'test');
mkdirSync(workDir, { recursive: true });
const bundlePath = join(workDir, 'workflow-bundle.js');
console.log('test: bundling workflow code');
await bundleWorkflows(bundlePath, join(root, 'test', 'fixtures', 'workflows.ts'));

console.log('test: starting a Temporal dev server');
const temporal = await startTemporalDevServer();
let exitCode = 1;
try {
  const resultsFile = join(workDir, 'jest-results.json');
  rmSync(resultsFile, { force: true });
  const jestArgs = ['--experimental-vm-modules', join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)];
  const { status } = spawnSync(process.execPath, jestArgs, {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, BATON_TEST_WORKFLOW_BUNDLE: bundlePath, NODE_NO_WARNINGS: '1' },
  });
  exitCode = status ?? 1;
  printSummary(resultsFile);
} finally {
  await temporal.teardown();
}
process.exit(exitCode);

/** One plain closing line (skipped tests counted apart, never as passed). */
function printSummary(resultsFile: string): void {
  if (!existsSync(resultsFile)) return;
  const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  const skipped = results.numPendingTests + results.numTodoTests;
  console.log(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
