import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The Python MCP SDK release whose 2025-11-25 task support the tests use (`session.experimental`). */
const PYTHON_MCP_VERSION = '1.30.0';
const target = fileURLToPath(new URL(`../../.baton/python-mcp-${PYTHON_MCP_VERSION}`, import.meta.url));
const script = fileURLToPath(new URL('../fixtures/mcp_tasks_client_2025.py', import.meta.url));

/** Installs the Python `mcp` SDK into .baton/ once (pip --target, as for the Temporal CLI), for the 2025-era client. */
export function provisionPythonMcp(): string {
  if (existsSync(`${target}/mcp/__init__.py`)) return target;
  const installed = spawnSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', target, `mcp==${PYTHON_MCP_VERSION}`], { encoding: 'utf8' });
  if (installed.status !== 0) throw new Error(`pip could not install mcp==${PYTHON_MCP_VERSION} into ${target}: ${installed.stderr}`);
  return target;
}

export type PythonAnswer<T = Record<string, unknown>> = { ok: T; error?: undefined } | { ok?: undefined; error: { code: number; message: string } };

/** A real 2025-11-25 client (the Python `mcp` SDK) in its own process, one command at a time (see the script). */
export class PythonTasksClient {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  readonly ready: Promise<{ protocolVersion: string; capabilities: Record<string, unknown> }>;
  #stderr = '';

  constructor(mcpUrl: string, token: string) {
    this.#child = spawn('python3', [script, mcpUrl, token], { env: { ...process.env, PYTHONPATH: provisionPythonMcp() } });
    this.#child.stderr.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.#lines = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]();
    this.ready = this.#next() as never;
  }

  async send<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<PythonAnswer<T>> {
    await this.ready;
    this.#child.stdin.write(`${JSON.stringify(command)}\n`);
    return (await this.#next()) as PythonAnswer<T>;
  }

  async #next(): Promise<unknown> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error(`the Python client exited: ${this.#stderr}`);
    return JSON.parse(value) as unknown;
  }

  async close(): Promise<void> {
    this.#child.stdin.end();
    if (this.#child.exitCode === null) await new Promise((resolve) => this.#child.once('exit', resolve));
  }
}
