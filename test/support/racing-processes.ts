/**
 * Several real Node processes running the same script, released at the same moment: each prints `ready`,
 * waits for a line on stdin, does its work, and prints one JSON line as its result. For proving what holds
 * across processes sharing a database (migrations, the audit chain, single-use authorizations).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the script starts with: `await openTestDatabase()` opens the database named by the variables passed in `env`. */
const PRELUDE = `
import { openDatabase } from ${JSON.stringify(new URL('../../core/db.ts', import.meta.url).href)};
const openTestDatabase = () => openDatabase({ databasePath: process.env.BATON_DB, databaseUrl: process.env.BATON_DATABASE_URL });
const ready = () => {
  process.stdout.write('ready\\n');
  return new Promise((resolve) => process.stdin.once('data', () => { process.stdin.destroy(); resolve(); }));
};
const result = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
`;

/**
 * Runs `count` copies of `body` (an ES module body that may `await ready()` once and then `result(…)`;
 * `process.argv[2]` is its index) and resolves with their results, in order, once all exited with 0.
 * `imports` are module paths relative to the repository root, as `import * as <name>` lines.
 */
export async function raceProcesses<T>(options: {
  count: number;
  env: Record<string, string>;
  body: string;
  imports?: Record<string, string>;
  /** Called right after the processes are released, to race them from this process too. */
  released?: () => void;
}): Promise<T[]> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-race-'));
  try {
    const script = join(dir, 'race.mjs');
    const imports = Object.entries(options.imports ?? {})
      .map(([name, path]) => `import * as ${name} from ${JSON.stringify(new URL(`../../${path}`, import.meta.url).href)};`)
      .join('\n');
    writeFileSync(script, `${imports}\n${PRELUDE}\n${options.body}\n`);
    const { NODE_OPTIONS: _jestOnly, BATON_DB: _db, BATON_DATABASE_URL: _url, ...inherited } = process.env;
    const children = Array.from({ length: options.count }, (_, index) => {
      const child = spawn(process.execPath, [script, String(index)], { env: { ...inherited, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.startsWith('ready\n')) resolve();
        });
        child.on('exit', () => reject(new Error(`process ${index} exited before it was ready: ${stderr}`)));
      });
      const done = new Promise<T>((resolve, reject) =>
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout.slice('ready\n'.length)) as T) : reject(new Error(`process ${index} exited with ${code}: ${stderr}`)))),
      );
      done.catch(() => undefined);
      return { child, ready, done };
    });
    try {
      await Promise.all(children.map((entry) => entry.ready));
      for (const { child } of children) child.stdin.write('go\n');
      options.released?.();
      return await Promise.all(children.map((entry) => entry.done));
    } finally {
      for (const { child } of children) if (child.exitCode === null) child.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
