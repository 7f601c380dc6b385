import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerMain = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));

/** A real `baton worker` process, so tests can kill it like an operator (or the OOM killer) would. */
export class WorkerProcess {
  readonly #env: NodeJS.ProcessEnv;
  #child?: ChildProcess;
  output = '';

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [workerMain], { env: this.#env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not get ready in 60 s:\n${this.output}`)), 60_000);
      const collect = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('worker ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited with ${code} before it was ready:\n${this.output}`));
      });
    });
  }

  /** SIGKILL: no graceful shutdown, in-flight activities are simply lost. */
  async kill(): Promise<void> {
    await this.#stop('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.#stop('SIGTERM');
  }

  /** SIGTERM, as an orchestrator stops a pod; resolves with how the process ended. */
  stopGracefully(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#stop('SIGTERM');
  }

  async #stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, endedBy) => resolve({ code, signal: endedBy })));
    child.kill(signal);
    return exited;
  }
}
