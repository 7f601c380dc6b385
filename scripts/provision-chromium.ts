/**
 * Finds (or installs) the Chromium the browser tests drive (playwright-core ships no browser, and this
 * machine's network reaches package registries only, so no browser download). Order: $CHROMIUM_PATH;
 * `chromium`, `chromium-browser`, `google-chrome`, `google-chrome-stable` on PATH; else, as root on
 * Debian/Ubuntu, Debian's `chromium` and `fonts-liberation` packages installed with apt-get; else an
 * error naming what to install.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const packages = ['chromium', 'fonts-liberation'];

export class ChromiumUnavailableError extends Error {
  override name = 'ChromiumUnavailableError';
}

const howToGetOne =
  'The browser tests need a real Chromium: install one (Debian/Ubuntu: `sudo apt-get install chromium fonts-liberation`; ' +
  "elsewhere your system's chromium or Google Chrome) or set CHROMIUM_PATH to its binary.";

/** The path of a Chromium binary; `log` gets one line when it has to install one. */
export function provisionChromium(log: (line: string) => void = console.log): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new ChromiumUnavailableError(`CHROMIUM_PATH points at ${fromEnv}, which is not an executable file. ${howToGetOne}`);
    return fromEnv;
  }
  const found = findOnPath();
  if (found) return found;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !findOnPath(['apt-get'])) {
    throw new ChromiumUnavailableError(`No Chromium found (CHROMIUM_PATH unset; none of ${names.join(', ')} on PATH). ${howToGetOne}`);
  }
  log(`installing Chromium from Debian's packages (apt-get install ${packages.join(' ')}) ...`);
  const started = performance.now();
  // apt's output is long and only interesting when it fails: kept, and shown then.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps = [['update'], ['install', '-y', '--no-install-recommends', ...packages]];
  for (const args of steps) {
    const result = spawnSync('apt-get', args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim();
      throw new ChromiumUnavailableError(`\`apt-get ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}):\n${output}\n${howToGetOne}`);
    }
  }
  const installed = findOnPath();
  if (!installed) throw new ChromiumUnavailableError(`apt-get installed ${packages.join(' ')}, yet no ${names.join(' / ')} is on PATH. ${howToGetOne}`);
  log(`Chromium installed at ${installed} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return installed;
}

function findOnPath(candidates: string[] = names): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of candidates) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutable(path)) return path;
    }
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
