/**
 * The bench's side of the engine floor: bundles the floor's workflows, starts its worker as a child
 * process on a task queue of its own (same Temporal server as Baton's), hands it the sandbox URLs and
 * credentials over IPC, and runs workflows the plain client way: start, then wait for the result.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FloorAppConfig } from './activities.ts';
import type { EventLoopHistogram, FromFloorWorker, ToFloorWorker } from './ipc.ts';
import type { FloorInput } from './workflows.ts';

const workflowsPath = fileURLToPath(new URL('./workflows.ts', import.meta.url));
const workerMain = fileURLToPath(new URL('./worker.ts', import.meta.url));

export type FloorWorkflow = 'floorRead' | 'floorTriage' | 'floorTriageDeeper';

export class EngineFloor {
  readonly client: Client;
  readonly taskQueue: string;
  /** The tuning options of the floor's worker as the SDK compiled them (defaults filled in). */
  readonly effectiveOptions: Record<string, unknown>;
  readonly #child: ChildProcess;
  #output = '';
  #nextRead = 0;

  private constructor(fields: { client: Client; taskQueue: string; child: ChildProcess; effectiveOptions: Record<string, unknown>; output: string }) {
    this.client = fields.client;
    this.taskQueue = fields.taskQueue;
    this.#child = fields.child;
    this.effectiveOptions = fields.effectiveOptions;
    this.#output = fields.output;
    this.#child.stdout?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    this.#child.stderr?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
  }

  static async start({ temporalAddress, apps, workDir }: { temporalAddress: string; apps: FloorAppConfig; workDir: string }): Promise<EngineFloor> {
    const bundlePath = join(workDir, 'engine-floor-bundle.js');
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    await writeFile(bundlePath, code);
    const taskQueue = `engine-floor-${randomUUID()}`;
    const child = spawn(process.execPath, [workerMain], {
      env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', TEMPORAL_ADDRESS: temporalAddress, FLOOR_TASK_QUEUE: taskQueue, FLOOR_WORKFLOW_BUNDLE: bundlePath },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    const collect = (chunk: Buffer) => (output += chunk.toString());
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    try {
      const effectiveOptions = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the engine floor's worker did not get ready in 60 s:\n${output}`)), 60_000);
        child.on('message', (message: FromFloorWorker) => {
          if (message.type !== 'ready') return;
          clearTimeout(timer);
          resolve(message.effectiveOptions);
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the engine floor's worker exited with ${code} before it was ready:\n${output}`));
        });
        child.send({ type: 'config', config: apps } satisfies ToFloorWorker);
      });
      child.stdout?.off('data', collect);
      child.stderr?.off('data', collect);
      const client = new Client({ connection: await Connection.connect({ address: temporalAddress }), namespace: 'default' });
      return new EngineFloor({ client, taskQueue, child, effectiveOptions, output });
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** One run: start the workflow and wait for its result. */
  run(workflow: FloorWorkflow, input: FloorInput): Promise<unknown> {
    return this.client.workflow.execute(workflow, { taskQueue: this.taskQueue, workflowId: `${workflow}-${randomUUID()}`, args: [input] });
  }

  /** The floor worker's event-loop delay since the previous read (the histogram restarts at every read). */
  eventLoop(): Promise<EventLoopHistogram> {
    const id = (this.#nextRead += 1);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the engine floor's worker did not answer an event-loop read:\n${this.#output}`)), 10_000);
      const onMessage = (message: FromFloorWorker) => {
        if (message.type !== 'eventLoop' || message.id !== id) return;
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        resolve(message.histogram);
      };
      this.#child.on('message', onMessage);
      this.#child.send({ type: 'eventLoop', id } satisfies ToFloorWorker);
    });
  }

  async close(): Promise<void> {
    await this.client.connection.close();
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}
