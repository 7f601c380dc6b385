import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const baton = fileURLToPath(new URL('../../bin/baton.js', import.meta.url));

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A real `baton <command>` process (by default `baton gateway`), started with the given environment,
 * so tests can signal it like an orchestrator would and read what it printed.
 */
export class BatonProcess {
  readonly #env: NodeJS.ProcessEnv;
  readonly #args: string[];
  #child?: ChildProcess;
  #exited?: Promise<ProcessExit>;
  output = '';

  constructor(env: NodeJS.ProcessEnv, args: string[] = ['gateway']) {
    this.#env = env;
    this.#args = args;
  }

  /** Starts the process; resolves once it printed `readyLine` (or rejects with its output when it exits first). */
  async start(readyLine = 'gateway ready', timeoutMs = 60_000): Promise<void> {
    const child = spawn(process.execPath, [baton, ...this.#args], { env: this.#env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`baton ${this.#args.join(' ')} did not get ready in ${timeoutMs / 1000} s:\n${this.output}`)), timeoutMs);
      const collect = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes(readyLine)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      void this.#exited!.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`baton ${this.#args.join(' ')} exited with ${code} before it was ready:\n${this.output}`));
      });
    });
  }

  /** Runs the command to its end (for commands expected to fail at start), with a time limit. */
  async runToEnd(timeoutMs = 60_000): Promise<ProcessExit & { output: string; ms: number }> {
    const started = performance.now();
    await this.start('\0never\0', timeoutMs).catch(() => this.kill());
    const exit = await this.exited();
    return { ...exit, output: this.output, ms: performance.now() - started };
  }

  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  exited(): Promise<ProcessExit> {
    if (!this.#exited) throw new Error('not started');
    return this.#exited;
  }

  /** Waits until the process printed `text` (polling its output). */
  async waitForOutput(text: string | RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const seen = () => (typeof text === 'string' ? this.output.includes(text) : text.test(this.output));
    while (!seen()) {
      if (Date.now() > deadline) throw new Error(`baton ${this.#args.join(' ')} did not print ${String(text)} in ${timeoutMs / 1000} s:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGKILL, for clean-up after a failed test. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.#exited;
  }
}
