/**
 * The development instance a project directory is running (`npm start` / `baton dev`), so that the CLI
 * (`baton token`, `baton runs`, …) talks to it rather than to the default ports. `baton dev` records itself
 * in `.baton/instance.json` once its gateway is ready and removes the file when it exits; a file whose
 * process is gone (killed, machine restarted) is stale and ignored.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';

const instanceSchema = z.object({
  pid: z.number().int().positive(),
  startedAt: z.string(),
  /** Where browsers and MCP clients reach the gateway (BATON_PUBLIC_URL), no trailing slash. */
  publicUrl: z.url(),
  /** The MCP endpoint: the audience of the tokens this gateway accepts. */
  mcpUrl: z.url(),
  gatewayPort: z.number().int(),
  sandboxUrl: z.url(),
  idpIssuer: z.url(),
  temporalAddress: z.string(),
  temporalUiUrl: z.url(),
});

export type DevInstance = z.infer<typeof instanceSchema>;

export const instanceFileName = 'instance.json';

/**
 * Writes `<home>/instance.json` atomically (a reader never sees half a file) and returns `forget`, which
 * removes it unless another instance has recorded itself since.
 */
export function recordDevInstance(home: string, instance: DevInstance): () => void {
  const file = join(home, instanceFileName);
  mkdirSync(home, { recursive: true });
  const temporary = `${file}.${instance.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(instance, null, 2)}\n`);
  renameSync(temporary, file);
  return () => {
    const current = lookUpInstanceFile(file);
    if ('instance' in current && current.instance.pid === instance.pid) rmSync(file, { force: true });
  };
}

export type InstanceLookup =
  /** Its process is alive. */
  | { state: 'running'; file: string; instance: DevInstance }
  /** Its process is gone: a `baton dev` that did not exit cleanly. */
  | { state: 'stale'; file: string; instance: DevInstance }
  | { state: 'unreadable'; file: string; reason: string }
  | { state: 'none'; file: string };

/**
 * The instance recorded for this project directory: in `$BATON_HOME` when set, else in the nearest
 * `.baton/` from `cwd` upwards that has an instance file (as `npx` finds the project from a subfolder).
 */
export function findDevInstance(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): InstanceLookup {
  if (env.BATON_HOME) return lookUpInstanceFile(join(resolve(cwd, env.BATON_HOME), instanceFileName));
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, '.baton', instanceFileName);
    if (existsSync(file)) return lookUpInstanceFile(file);
    if (dirname(dir) === dir) return { state: 'none', file: join(resolve(cwd), '.baton', instanceFileName) };
  }
}

function lookUpInstanceFile(file: string): InstanceLookup {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'none', file };
    return { state: 'unreadable', file, reason: (error as Error).message };
  }
  let parsed: ReturnType<typeof instanceSchema.safeParse>;
  try {
    parsed = instanceSchema.safeParse(JSON.parse(text));
  } catch (error) {
    return { state: 'unreadable', file, reason: `not JSON: ${(error as Error).message}` };
  }
  if (!parsed.success) return { state: 'unreadable', file, reason: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') };
  return { state: isProcessAlive(parsed.data.pid) ? 'running' : 'stale', file, instance: parsed.data };
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why no running instance's URLs could be used, for the line that says which defaults were assumed. */
export function whyNoInstance(lookup: Exclude<InstanceLookup, { state: 'running' }>): string {
  switch (lookup.state) {
    case 'none':
      return `no running \`npm start\` / \`baton dev\` found for this directory (no ${lookup.file})`;
    case 'stale':
      return `${lookup.file} is stale (process ${lookup.instance.pid}, started ${lookup.instance.startedAt}, is no longer running), so it was ignored`;
    case 'unreadable':
      return `${lookup.file} could not be read (${lookup.reason}), so it was ignored`;
  }
}
