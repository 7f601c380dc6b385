import {
  CancelTaskRequestV2Schema,
  GetTaskRequestV2Schema,
  hasTaskClientCapabilityV2,
  TASKS_EXTENSION_ID_V2,
  UpdateTaskRequestV2Schema,
  type CompletedTaskV2,
  type CreateTaskResultV2,
  type DetailedTaskV2,
  type InputRequestsV2,
} from '@modelcontextprotocol/ext-tasks/core/v2';
import {
  inputRequired,
  isTaskAugmentedRequestParams,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  RELATED_TASK_META_KEY,
  type CallToolResult,
  type ElicitRequestFormParams,
  type ListTasksResult,
  type Server,
  type ServerCapabilities,
  type ServerContext,
  type Task,
  type Tool,
} from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import { consentKey, questionKey, type RunTask, type RunTasks } from './run-tasks.ts';

/**
 * MCP tasks on the wire, for both protocol eras: the 2026-07-28 extension `io.modelcontextprotocol/tasks`
 * (`resultType: "task"`, tasks/get · update · cancel, with the extension's own schemas) and 2025-11-25's
 * experimental tasks (`params.task`, tasks/get · result · list · cancel, with the SDK's 2025 types). The SDK
 * serves neither: its typed handler surface leaves the task methods out, so the 2026 methods are registered
 * as custom methods with the extension's params schemas, and the 2025 ones through the untyped overload.
 */

export type Era = 'legacy' | 'modern';
type FindTool = (name: string) => Promise<CallableDefinition | undefined>;

/** How many tasks one 2025-era tasks/list page holds. */
const LIST_PAGE_SIZE = 20;

/** What each era's server advertises: the extension (2026) or the tasks capability (2025). */
export function taskCapabilities(era: Era): ServerCapabilities {
  if (era === 'modern') return { extensions: { [TASKS_EXTENSION_ID_V2]: {} } };
  return { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } } as ServerCapabilities;
}

/** A tool as 2025-era clients see it: every Baton tool may run as a task (`execution.taskSupport: optional`). */
export function withTaskSupport(tool: Tool, era: Era): Tool {
  return era === 'legacy' ? { ...tool, execution: { taskSupport: 'optional' } } : tool;
}

/** Whether this tools/call is answered with a task: the 2026 client opted in to the extension, or the 2025 client sent `params.task`. */
export function answersWithTask(era: Era, params: unknown, ctx: ServerContext): boolean {
  return era === 'modern' ? clientOptedIn(ctx) : isTaskAugmentedRequestParams(params) && (params as { task?: unknown }).task !== undefined;
}

/** The tools/call answer that hands the client a task instead of the result. */
export function createTaskResult(era: Era, task: RunTask): CallToolResult {
  if (era === 'modern') {
    const created: CreateTaskResultV2 = { resultType: 'task', ...taskV2(task) };
    return created as unknown as CallToolResult;
  }
  // The SDK checks a 2025 tools/call answer against CallToolResult, which needs `content`: an empty one rides along.
  return { content: [], task: taskV1(task) } as CallToolResult;
}

/** Registers tasks/get, tasks/update and tasks/cancel (2026) or tasks/get, tasks/result, tasks/list and tasks/cancel (2025). */
export function registerTaskHandlers(server: Server, deps: { era: Era; principal: Principal; mcpServer: string; tasks: RunTasks; findTool: FindTool }): void {
  const { principal, tasks, findTool } = deps;
  if (deps.era === 'modern') {
    server.setRequestHandler('tasks/get', { params: GetTaskRequestV2Schema.shape.params }, async ({ taskId }, ctx) => {
      requireOptIn(ctx);
      return { resultType: 'complete', ...detailedTaskV2(await tasks.get(principal, taskId, findTool)) };
    });
    // The SDK lifts `inputResponses` out of every 2026 request's params (as for multi round-trip retries): the params
    // schema checks the rest, and the responses come from the request context.
    const updateParams = UpdateTaskRequestV2Schema.shape.params.omit({ inputResponses: true });
    server.setRequestHandler('tasks/update', { params: updateParams }, async ({ taskId }, ctx) => {
      requireOptIn(ctx);
      await tasks.update(principal, taskId, ctx.mcpReq.inputResponses ?? {}, findTool, deps.mcpServer);
      return { resultType: 'complete' };
    });
    server.setRequestHandler('tasks/cancel', { params: CancelTaskRequestV2Schema.shape.params }, async ({ taskId }, ctx) => {
      requireOptIn(ctx);
      // Cancelling a task that has already ended changes nothing; the acknowledgement is all the extension asks for.
      await tasks.cancel(principal, taskId, findTool, deps.mcpServer);
      return { resultType: 'complete' };
    });
    return;
  }

  // 2025-11-25: spec methods the SDK parses but does not offer to typed handlers.
  const on = server.setRequestHandler.bind(server) as unknown as (method: string, handler: (request: { params?: Record<string, unknown> }, ctx: ServerContext) => Promise<object>) => void;
  const taskIdOf = (request: { params?: Record<string, unknown> }) => {
    const taskId = request.params?.taskId;
    if (typeof taskId !== 'string' || taskId === '') throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'params.taskId must be the taskId a tools/call returned.');
    return taskId;
  };
  on('tasks/get', async (request) => taskV1(await tasks.get(principal, taskIdOf(request), findTool)));
  on('tasks/result', async (request, ctx) => {
    const taskId = taskIdOf(request);
    const closed = new AbortController();
    ctx.mcpReq.signal.addEventListener('abort', () => closed.abort(), { once: true });
    // Status changes go out on this request's stream while it waits, where the transport has one.
    const task = await tasks.settle(principal, taskId, findTool, closed.signal, (changed) =>
      ctx.mcpReq.notify({ method: 'notifications/tasks/status', params: taskV1(changed) } as never).catch(() => undefined),
    );
    const related = { [RELATED_TASK_META_KEY]: { taskId } };
    switch (task.status) {
      case 'completed':
        return { ...task.result!, _meta: { ...task.result!._meta, ...related } };
      case 'failed':
        throw new ProtocolError(task.error!.code, task.error!.message, related);
      case 'cancelled':
        throw new ProtocolError(ProtocolErrorCode.InvalidRequest, 'The task was cancelled; it has no result.', related);
      default:
        throw new ProtocolError(ProtocolErrorCode.InternalError, 'The request ended before the task did; call tasks/result again.', related);
    }
  });
  on('tasks/list', async (request): Promise<ListTasksResult> => {
    const before = decodeCursor(request.params?.cursor);
    const page = await tasks.list(principal, LIST_PAGE_SIZE, before);
    const last = page.at(-1);
    return { tasks: page.map(taskV1), ...(page.length === LIST_PAGE_SIZE && last ? { nextCursor: encodeCursor(Date.parse(last.createdAt)) } : {}) };
  });
  on('tasks/cancel', async (request) => {
    const { task, alreadyEnded } = await tasks.cancel(principal, taskIdOf(request), findTool, deps.mcpServer);
    if (alreadyEnded) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `The task has already ended (${task.status}); there is nothing to cancel.`);
    return taskV1(task);
  });
}

function clientOptedIn(ctx: ServerContext): boolean {
  // The SDK lifts the request's reserved `_meta` keys into the envelope; the extension's check reads them from `_meta`.
  return hasTaskClientCapabilityV2({ _meta: ctx.mcpReq.envelope });
}

/** 2026: the task methods answer only clients that declare the extension on the request (-32021 otherwise). */
function requireOptIn(ctx: ServerContext): void {
  if (!clientOptedIn(ctx)) {
    throw new MissingRequiredClientCapabilityError(
      { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID_V2]: {} } } },
      `Missing required client capability: declare the ${TASKS_EXTENSION_ID_V2} extension in this request's client capabilities to use tasks.`,
    );
  }
}

function taskV2(task: RunTask) {
  return {
    taskId: task.taskId,
    status: task.status,
    ...(task.statusMessage === undefined ? {} : { statusMessage: task.statusMessage }),
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt,
    ttlMs: task.ttlMs,
    pollIntervalMs: task.pollIntervalMs,
  };
}

function detailedTaskV2(task: RunTask): DetailedTaskV2 {
  const base = taskV2(task);
  switch (task.status) {
    case 'input_required':
      return { ...base, status: 'input_required', inputRequests: inputRequestsOf(task) };
    case 'completed':
      // The result is the tools/call result it stands for, in 2026 shape.
      return { ...base, status: 'completed', result: { resultType: 'complete', ...task.result } as CompletedTaskV2['result'] };
    case 'failed':
      return { ...base, status: 'failed', error: task.error! };
    default:
      return { ...base, status: task.status };
  }
}

/** A consent link per app (URL elicitations to Baton's own /connect pages) and a form per upstream question. */
function inputRequestsOf(task: RunTask): InputRequestsV2 {
  const requests: Record<string, unknown> = {};
  for (const link of task.links ?? []) requests[consentKey(link)] = inputRequired.elicitUrl({ message: `${link.message} Connect ${link.appName} to continue.`, url: link.url });
  for (const input of task.inputs ?? []) {
    for (const [key, question] of Object.entries(input.questions)) {
      requests[questionKey(input, key)] = inputRequired.elicit({
        message: `${input.server} asks: ${question.message}`,
        requestedSchema: question.requestedSchema as ElicitRequestFormParams['requestedSchema'],
      });
    }
  }
  return requests as InputRequestsV2;
}

/** The 2025-11-25 Task: `ttl` and `pollInterval` instead of 2026's `ttlMs` and `pollIntervalMs`; links are in the status message. */
function taskV1(task: RunTask): Task {
  const { ttlMs, pollIntervalMs, ...common } = taskV2(task);
  return { ...common, ttl: ttlMs, pollInterval: pollIntervalMs };
}

const encodeCursor = (before: number) => Buffer.from(String(before)).toString('base64url');

function decodeCursor(cursor: unknown): number | undefined {
  if (cursor === undefined) return undefined;
  const before = typeof cursor === 'string' ? Number(Buffer.from(cursor, 'base64url').toString()) : Number.NaN;
  if (!Number.isSafeInteger(before) || before <= 0) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor: pass the nextCursor of an earlier tasks/list answer.');
  return before;
}
