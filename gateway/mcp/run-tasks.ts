import { inputResponse, ProtocolError, ProtocolErrorCode, type CallToolResult } from '@modelcontextprotocol/server';
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { ConsentStore } from '../../core/consent/consent-store.ts';
import type { RegisteredRun, RunRegistry } from '../../core/runs/run-registry.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import type { PendingInput } from '../../workflows/protocol.ts';
import { BatonWaitingFor } from '../../workflows/search-attributes.ts';
import { actorOf } from '../audit/actor.ts';
import type { Principal } from '../auth/principal.ts';
import { decideRequest } from '../consent/resume-runs.ts';
import { closedRunOutcome } from '../temporal/await-outcome.ts';
import { isUpstreamTool } from '../upstreams/upstream-tools.ts';
import { finishedResult } from './run-results.ts';
import type { CallOutcome, ConsentLink, InputAnswerTo, ToolRunner } from './tool-runner.ts';

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** A run as an MCP task, in the terms both task eras share; gateway/mcp/task-handlers.ts puts it on the wire. */
export interface RunTask {
  /** The run's workflow id. */
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number;
  pollIntervalMs: number;
  /** `input_required`: the apps the user must connect, each with Baton's consent link. */
  links?: ConsentLink[];
  /** `input_required`: an upstream MCP server's questions to the user. */
  inputs?: PendingInput[];
  /** `completed`: the tool result, exactly as a waiting `tools/call` would have answered (tool errors included). */
  result?: CallToolResult;
  /** `failed`: why the run ended without a result (terminated, timed out). */
  error?: { code: number; message: string };
}

export interface RunTasksDependencies {
  runner: ToolRunner;
  client: Client;
  runs: RunRegistry;
  consents: ConsentStore;
  audit: AuditLog;
  ttlMs: number;
  pollIntervalMs: number;
}

type FindTool = (name: string) => Promise<CallableDefinition | undefined>;

/** The same answer for a task that never existed and for someone else's: nothing is revealed about either. */
const unknownTask = () => new ProtocolError(ProtocolErrorCode.InvalidParams, 'Failed to retrieve task: Task not found. Use a taskId a tools/call of yours returned.');
const expiredTask = () => new ProtocolError(ProtocolErrorCode.InvalidParams, 'Failed to retrieve task: Task has expired. Call the tool again to start a new one.');

export const isTerminal = (status: TaskStatus) => status === 'completed' || status === 'failed' || status === 'cancelled';

/** The key of one upstream question in a task's `inputRequests` (unique over the task's life: the wait's id is). */
export const questionKey = (input: PendingInput, key: string) => `question:${input.inputId}:${key}`;
/** The key of an app's consent link in a task's `inputRequests`: its consent request's id. */
export const consentKey = (link: ConsentLink) => `connect:${link.consentId}`;

/**
 * Baton's runs as MCP tasks: a task is a run (its id is the run's workflow id), so it is as durable as the run —
 * any gateway answers for it, before and after restarts — and it is the caller's alone: the run registry says
 * whose a run is, and anyone else asking gets "task not found".
 */
export class RunTasks {
  readonly #deps: RunTasksDependencies;

  constructor(deps: RunTasksDependencies) {
    this.#deps = deps;
  }

  /** Starts the tool's run as the caller and answers once it exists in Temporal and in the run registry. */
  async create(principal: Principal, tool: CallableDefinition, input: unknown, inbound: { token: string; headerOverride: string | null; server: string }): Promise<RunTask> {
    const run = await this.#deps.runner.start(principal, tool, input, inbound);
    return this.#task(run, { status: 'working', statusMessage: `${tool.name} is running.` });
  }

  /** The task's status now, with what it needs from the user or its result. */
  async get(principal: Principal, taskId: string, findTool: FindTool): Promise<RunTask> {
    const run = await this.#owned(principal, taskId);
    return this.#status(principal, run, await this.#toolOf(run, findTool), findTool);
  }

  async #status(principal: Principal, run: RegisteredRun, tool: CallableDefinition, findTool: FindTool): Promise<RunTask> {
    const description = await this.#describe(run);
    const closedAt = description.closeTime?.toISOString();
    switch (description.status.name) {
      case 'RUNNING': {
        const outcome = await this.#deps.runner.peek(principal, run, findTool);
        if (!outcome) throw unknownTask();
        return this.#fromOutcome(run, outcome);
      }
      case 'COMPLETED':
      case 'FAILED': {
        const status = await closedRunOutcome(this.#deps.client, run.workflowId, undefined);
        await this.#deps.runs.markDelivered(run.workflowId);
        const outcome: CallOutcome =
          status.state === 'completed'
            ? { kind: 'completed', runId: run.workflowId, result: status.result, toolResult: isUpstreamTool(tool) }
            : { kind: 'failed', runId: run.workflowId, message: status.state === 'failed' ? status.error.message : 'The run ended without a result.' };
        return this.#fromOutcome(run, outcome, closedAt);
      }
      case 'CANCELLED':
        return this.#task(run, { status: 'cancelled', statusMessage: 'The run was cancelled.' }, closedAt);
      default: {
        const how = description.status.name.toLowerCase().replace('_', ' ');
        return this.#task(
          run,
          { status: 'failed', statusMessage: `The run was ${how}.`, error: { code: ProtocolErrorCode.InternalError, message: `The run was ${how} in Temporal before it finished.` } },
          closedAt,
        );
      }
    }
  }

  /**
   * Takes the user's answers to the task's upstream questions (`inputResponses` under the keys its `inputRequests`
   * used) and their refusals of its consent links. Keys not outstanding now are ignored. A consent link needs no
   * answer to go on — the user finishes it in the browser and the run resumes by itself — but one the user
   * declines (`decline`) is this run's consent declined, as on the app's consent screen: the run ends with the
   * user's refusal; their other runs waiting on that app keep their own links. A dismissed link (`cancel`) stays open.
   */
  async update(principal: Principal, taskId: string, responses: Record<string, unknown>, findTool: FindTool, server: string): Promise<void> {
    const run = await this.#owned(principal, taskId);
    const tool = await this.#toolOf(run, findTool);
    const task = await this.#status(principal, run, tool, findTool);
    if (task.status !== 'input_required') return;
    for (const link of task.links ?? []) {
      const response = inputResponse(responses, consentKey(link));
      if (response.kind === 'elicit' && response.action === 'decline') await this.#decline(principal, run, link, server);
    }
    const answers: InputAnswerTo[] = [];
    for (const input of task.inputs ?? []) {
      const keys = Object.keys(input.questions);
      if (!keys.some((key) => questionKey(input, key) in responses)) continue; // not answered yet: it stays outstanding
      const answer: Record<string, unknown> = {};
      for (const key of keys) {
        const response = inputResponse(responses, questionKey(input, key));
        answer[key] = response.kind === 'elicit' ? responses[questionKey(input, key)] : { action: 'cancel' };
      }
      answers.push({ inputId: input.inputId, waitingWorkflowId: input.waitingWorkflowId, responses: answer });
    }
    if (answers.length) await this.#deps.runner.answerInputs(principal, run.workflowId, tool, answers);
  }

  /** The user declined this run's link to connect an app: its request is denied, and the trail says where. */
  async #decline(principal: Principal, run: RegisteredRun, link: ConsentLink, server: string): Promise<void> {
    const request = await this.#deps.consents.get(link.consentId);
    if (request?.rootWorkflowId !== run.workflowId || request.status !== 'pending') return; // answered meanwhile
    if (!(await decideRequest(this.#deps.client, this.#deps.consents, request, 'denied'))) return;
    await this.#deps.audit.record({
      kind: 'consent.denied',
      outcome: 'denied',
      actor: actorOf(principal),
      client: principal.clientId,
      server,
      app: request.app,
      tool: run.tool,
      rootRunId: run.workflowId,
      message: `${principal.subject} declined to connect ${link.appName} in their MCP client (tasks/update).`,
      durationMs: Date.now() - request.createdAt,
      detail: { consentId: request.id },
    });
  }

  /**
   * Cancels the run through Temporal (its child workflows and activities are cancelled with it) and records who
   * asked. Answers with the task as it is a moment later (normally `cancelled`); `alreadyEnded` when the run had
   * finished before, which is left as it was.
   */
  async cancel(principal: Principal, taskId: string, findTool: FindTool, server: string): Promise<{ task: RunTask; alreadyEnded: boolean }> {
    const run = await this.#owned(principal, taskId);
    if ((await this.#describe(run)).status.name !== 'RUNNING') return { task: await this.get(principal, taskId, findTool), alreadyEnded: true };
    const handle = this.#deps.client.workflow.getHandle(run.workflowId);
    await handle.cancel();
    await this.#deps.audit.record({
      kind: 'tool_call.cancel_requested',
      outcome: 'requested',
      actor: actorOf(principal),
      client: principal.clientId,
      server,
      tool: run.tool,
      rootRunId: run.workflowId,
      runPath: [run.workflowId],
      message: `${principal.subject} cancelled the run (MCP tasks/cancel).`,
    });
    // The run closes as soon as its workflow takes the cancellation, normally within a moment: answer with that.
    await this.#deps.client.connection.withAbortSignal(AbortSignal.timeout(5000), () => handle.result()).catch(() => undefined);
    return { task: await this.get(principal, taskId, findTool), alreadyEnded: false };
  }

  /**
   * Waits until the task ends (2025-11-25 `tasks/result`), reading its status every poll interval and reporting
   * each change to `onChange`; ends early, with the task as it is, when `signal` aborts (the client went away).
   */
  async settle(principal: Principal, taskId: string, findTool: FindTool, signal: AbortSignal, onChange: (task: RunTask) => Promise<void>): Promise<RunTask> {
    let reported: TaskStatus | undefined;
    for (;;) {
      const task = await this.get(principal, taskId, findTool);
      if (task.status !== reported) {
        reported = task.status;
        await onChange(task);
      }
      if (isTerminal(task.status) || signal.aborted) return task;
      await sleep(this.#deps.pollIntervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /**
   * The caller's tasks, newest first, `limit` at a time after `before` (a creation time in ms): their status from
   * Temporal's description of each run (no result, links or questions — `tasks/get` has those).
   */
  async list(principal: Principal, limit: number, before?: number): Promise<RunTask[]> {
    const notBefore = Date.now() - this.#deps.ttlMs;
    const runs = (await this.#deps.runs.listFor(principal, limit, before)).filter((run) => run.createdAt >= notBefore);
    const tasks: RunTask[] = [];
    for (const run of runs) {
      let description: WorkflowExecutionDescription;
      try {
        description = await this.#describe(run);
      } catch {
        continue; // gone from Temporal: expired
      }
      tasks.push(this.#task(run, { status: listedStatus(description) }, description.closeTime?.toISOString()));
    }
    return tasks;
  }

  /** The run's tool, as the caller may run it now; a tool taken away from them takes its tasks with it. */
  async #toolOf(run: RegisteredRun, findTool: FindTool): Promise<CallableDefinition> {
    const tool = await findTool(run.tool);
    if (!tool) throw unknownTask();
    return tool;
  }

  /** The caller's run by task id: "not found" for anyone else's, "expired" once its time to live has passed. */
  async #owned(principal: Principal, taskId: string): Promise<RegisteredRun> {
    const run = await this.#deps.runs.findOwned(taskId, principal);
    if (!run) throw unknownTask();
    if (run.createdAt + this.#deps.ttlMs < Date.now()) throw expiredTask();
    return run;
  }

  /** The run's description in Temporal; a run Temporal no longer keeps (past its retention) is an expired task. */
  async #describe(run: RegisteredRun): Promise<WorkflowExecutionDescription> {
    try {
      return await this.#deps.client.workflow.getHandle(run.workflowId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw expiredTask();
      throw error;
    }
  }

  #fromOutcome(run: RegisteredRun, outcome: CallOutcome, closedAt?: string): RunTask {
    switch (outcome.kind) {
      case 'completed':
      case 'failed':
        return this.#task(run, { status: 'completed', result: finishedResult(outcome) }, closedAt);
      case 'needs_consent':
        return this.#task(run, {
          status: 'input_required',
          statusMessage: `Waiting for you to connect ${outcome.links.map((link) => link.appName).join(' and ')}: ${outcome.links.map((link) => `${link.appName}: ${link.url}`).join(' ; ')}`,
          links: outcome.links,
        });
      case 'needs_input':
        return this.#task(run, {
          status: 'input_required',
          statusMessage: `Waiting for your answers to ${outcome.inputs.map((input) => `${input.server} ${input.tool}`).join(' and ')}.`,
          inputs: outcome.inputs,
        });
      case 'still_running':
        return this.#task(run, { status: 'working', statusMessage: `${run.tool} is running.` });
    }
  }

  #task(run: RegisteredRun, state: Pick<RunTask, 'status' | 'statusMessage' | 'links' | 'inputs' | 'result' | 'error'>, closedAt?: string): RunTask {
    const createdAt = new Date(run.createdAt).toISOString();
    return { taskId: run.workflowId, createdAt, lastUpdatedAt: closedAt ?? createdAt, ttlMs: this.#deps.ttlMs, pollIntervalMs: this.#deps.pollIntervalMs, ...state };
  }
}

/** A listed task's status from the run's description alone: a run waiting on an app names it in BatonWaitingFor. */
function listedStatus(description: WorkflowExecutionDescription): TaskStatus {
  switch (description.status.name) {
    case 'RUNNING':
      return (description.typedSearchAttributes.get(BatonWaitingFor) ?? []).length > 0 ? 'input_required' : 'working';
    case 'COMPLETED':
    case 'FAILED': // a tool error: the task completed with an isError result
      return 'completed';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}
