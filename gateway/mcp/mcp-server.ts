import {
  CLIENT_CAPABILITIES_META_KEY,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type AuthInfo,
  type CallToolResult,
  type ElicitRequestFormParams,
  type InputRequests,
  type InputRequiredResult,
  type McpServerFactory,
  type ServerContext,
  type Tool,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { GatewaySettings } from '../../core/config/gateway-settings.ts';
import { describeIssues } from '../../core/schema-issues.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import type { AccessPolicy } from '../access/access-policy.ts';
import { ToolAccess } from '../access/tool-access.ts';
import { actorOf } from '../audit/actor.ts';
import type { Principal } from '../auth/principal.ts';
import { inputRequiredPrompt, promptKeyOf, textPrompt, urlElicitationError, authRequiredBody } from './consent-prompts.ts';
import { HEADER_OVERRIDE, HeaderOverrideError } from './header-override.ts';
import type { LegacyClientCapabilities } from '../../core/mcp/legacy-clients.ts';
import type { McpCallMetrics } from './mcp-metrics.ts';
import type { AskedApps, CallOutcome, InputAnswerTo, ToolRunner } from './tool-runner.ts';
import type { PendingInput } from '../../workflows/protocol.ts';
import { isUpstreamTool, type UpstreamTools } from '../upstreams/upstream-tools.ts';
import { finishedResult } from './run-results.ts';
import type { RunTasks } from './run-tasks.ts';
import { answersWithTask, createTaskResult, registerTaskHandlers, taskCapabilities, withTaskSupport } from './task-handlers.ts';

/** What the 2026-era `requestState` seals: the run to re-attach to and whose it is. */
export interface SealedRunState {
  runId: string;
  tenant: string;
  subject: string;
  tool: string;
  /** Apps an earlier round of this call asked the user to connect and the user agreed to open (app → consent id of the link). */
  asked?: AskedApps;
  /** The links of the answer this state came with (app → consent id): the retry's `inputResponses` say which the user opened. */
  prompted?: AskedApps;
  /** The upstream questions of the answer this state came with, by the key Baton gave each in `inputRequests`. */
  questions?: Record<string, AskedQuestion>;
}

/** Where one question Baton passed on came from: which wait of the run, and the upstream's own key for it. */
interface AskedQuestion {
  inputId: string;
  key: string;
  waitingWorkflowId: string;
}

/** Per-request data the HTTP layer hands in through `AuthInfo.extra` and reads back after the call. */
export interface RequestExtras {
  principal: Principal;
  /** Set by a tools/call in `http-401` prompt mode: the HTTP layer answers 401 with this body. */
  authRequired?: ReturnType<typeof authRequiredBody>;
}

export const GET_RUN_RESULT = 'get_run_result';
const getRunResultInput = z.object({ runId: z.string().min(1).max(200).describe('The runId a previous answer gave you.') });

export interface McpServerDependencies {
  /** The MCP server (from the configuration) this endpoint serves. */
  server: string;
  policy: AccessPolicy;
  tools: readonly CallableDefinition[];
  /** The upstream MCP servers' tools (absent when none is configured). */
  upstreams?: UpstreamTools;
  runner: ToolRunner;
  /** Runs as MCP tasks (both eras). */
  tasks: RunTasks;
  legacyClients: LegacyClientCapabilities;
  gateway: GatewaySettings;
  audit: AuditLog;
  metrics: McpCallMetrics;
  version: string;
}

type PromptStyle = 'input_required' | 'url_elicitation_error' | 'text' | 'http_401';

/**
 * Builds the MCP server for one HTTP request (stateless serving: nothing outlives the request but what
 * is in Temporal and the database). The tool list is the caller's own; tools/call validates, runs or
 * re-attaches, and answers a pause for consent in the form the client understands.
 */
export function mcpServerFactory(deps: McpServerDependencies): McpServerFactory {
  const byName = new Map(deps.tools.map((tool) => [tool.name, tool]));
  // The same decision the HTTP API and schedules make (gateway/access/tool-access.ts).
  const access = new ToolAccess({ policy: deps.policy, runner: deps.runner, tools: deps.tools, upstreams: deps.upstreams });
  const codec = createRequestStateCodec<SealedRunState>({
    key: deps.gateway.requestStateKey,
    ttlSeconds: deps.gateway.requestStateTtlSeconds,
    // Bound to the caller: another user's (or a forged) state fails verification before any handler runs.
    bind: (ctx) => {
      const principal = extrasOf(ctx.http?.authInfo).principal;
      return `${principal.tenant}\0${principal.subject}`;
    },
  });

  return ({ era, authInfo }) => {
    const extras = extrasOf(authInfo);
    const { principal } = extras;
    const server = new Server(
      { name: 'baton', version: deps.version },
      {
        capabilities: { tools: { listChanged: true }, ...taskCapabilities(era) },
        instructions: 'Baton runs composite tools as you. When a tool needs an app you have not connected, you get a link to connect it; then call the tool again.',
        requestState: { verify: (state, ctx) => codec.verify(state, ctx) },
      },
    );
    // Read when a request needs it (tools/list, get_run_result), once per request.
    let visibleTools: Promise<CallableDefinition[]> | undefined;
    const visible = () => (visibleTools ??= access.runnable(principal, deps.server));
    const findTool = (name: string) => access.find(principal, name);
    registerTaskHandlers(server, { era, principal, mcpServer: deps.server, tasks: deps.tasks, findTool });

    server.setRequestHandler('tools/list', async () => {
      const tools = await visible();
      // Someone with no tool here sees nothing at all, not even get_run_result.
      return { tools: tools.length > 0 ? [...tools.map((tool) => withTaskSupport(describeTool(tool), era)), describeGetRunResult()] : [] };
    });

    server.setRequestHandler('tools/call', async (request, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const { name, arguments: args } = request.params;
      const started = performance.now();
      const style = await promptStyle(era, ctx, principal);
      // Set once the tool is known: an upstream tool whose results clients check against its output schema.
      let strictOutput = false;
      if (name === GET_RUN_RESULT && (await visible()).length > 0) {
        const { runId } = validate(getRunResultInput, args, name);
        const sealed = era === 'modern' ? ctx.mcpReq.requestState<SealedRunState>() : undefined;
        const answers = sealed?.runId === runId ? answersOf(sealed, ctx.mcpReq.inputResponses) : [];
        const outcome = await deps.runner.attach(principal, runId, findTool, { answers });
        if (!outcome) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `No run "${runId}" of yours is known here. Use the runId a previous answer gave you.`);
        return answer(outcome);
      }
      const decision = await access.decide(principal, deps.server, name);
      if (!decision.allowed) {
        const reason = decision.refusal === 'unknown_tool' ? `${decision.message} Call tools/list to see the tools you may run.` : decision.message;
        // A real tool the caller may not run is an access decision worth keeping; a typo is not.
        if (byName.get(name)?.kind === 'tool')
          await deps.audit.record({ kind: 'access.denied', outcome: 'denied', actor: actorOf(principal), client: principal.clientId, server: deps.server, tool: name, message: reason });
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, reason);
      }
      const { tool } = decision;
      strictOutput = isUpstreamTool(tool) && tool.upstream.tool.outputSchema !== undefined;
      const input = validate(tool.input, args, name);
      if (answersWithTask(era, request.params, ctx)) {
        // 2025: the client asked for a task. 2026: the client takes one; a run done within a moment is answered as it
        // is (a quick tool costs no extra round trip), any other becomes a task — paused for consent, or still working.
        if (era === 'legacy') return createTaskResult(era, await refusingBadOverrides(() => deps.tasks.create(principal, tool, input, inbound())));
        const outcome = await refusingBadOverrides(() => deps.runner.call(principal, tool, input, inbound(), { fresh: true, waitMs: deps.gateway.taskAnswerWithinMs }));
        if (outcome.kind === 'completed' || outcome.kind === 'failed') return answer(outcome);
        return createTaskResult(era, await deps.tasks.get(principal, outcome.runId, findTool));
      }
      const sealed = era === 'modern' ? ctx.mcpReq.requestState<SealedRunState>() : undefined;
      // Each app is asked for once per call: what earlier rounds asked (and the user agreed to open) is not asked again.
      const rounds = sealed && sealed.tool === tool.name ? askedSoFar(sealed, ctx.mcpReq.inputResponses) : undefined;
      const outcome =
        sealed && rounds ? await deps.runner.attach(principal, sealed.runId, findTool, { asked: rounds.asked, answers: answersOf(sealed, ctx.mcpReq.inputResponses) }) : await startOrFind(tool, input);
      if (!outcome) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'The requestState names a run that is not yours or no longer exists; call the tool again without it.');
      return answer(outcome, rounds);

      /**
       * An upstream tool with an output schema: clients check every result that is not an error against it,
       * so Baton's own answers for it (a handle, the no-elicitation consent prompt) go out as `isError` results.
       */
      function ownAnswer(result: CallToolResult): CallToolResult {
        return strictOutput ? { ...result, isError: true } : result;
      }

      function inbound() {
        return { token: ctx.http!.authInfo!.token, headerOverride: ctx.http?.req?.headers.get(HEADER_OVERRIDE) ?? null, server: deps.server };
      }

      async function startOrFind(tool: CallableDefinition, input: unknown): Promise<CallOutcome> {
        return refusingBadOverrides(() => deps.runner.call(principal, tool, input, inbound()));
      }

      async function answer(outcome: CallOutcome, rounds: { asked: AskedApps; dismissed: Set<string> } = { asked: {}, dismissed: new Set() }): Promise<CallToolResult | InputRequiredResult> {
        deps.metrics.answered(name, outcome.kind, (performance.now() - started) / 1000);
        switch (outcome.kind) {
          case 'completed':
          case 'failed':
            return finishedResult(outcome);
          case 'still_running':
            // Every 2026-era client understands a state-only input_required: it simply calls again with it.
            if (era === 'modern' && style !== 'http_401') return { resultType: 'input_required', requestState: await codec.mint({ ...sealOf(outcome.runId), asked: rounds.asked }, ctx) };
            return ownAnswer({
              content: [{ type: 'text', text: `Still running. Call ${GET_RUN_RESULT} with runId "${outcome.runId}" to wait for the result.` }],
              structuredContent: { status: 'running', runId: outcome.runId },
            });
          case 'needs_consent':
            if (style === 'input_required') {
              // The user dismissed a prompt for one of these apps: asking again at once would only loop; a plain
              // answer with the links ends the call, and calling again later re-attaches to the same run.
              if (outcome.links.some((link) => rounds.dismissed.has(link.app))) return ownAnswer(textPrompt(outcome.runId, outcome.links));
              const prompted = Object.fromEntries(outcome.links.map((link) => [link.app, link.consentId]));
              return inputRequiredPrompt(outcome.links, await codec.mint({ ...sealOf(outcome.runId), asked: rounds.asked, prompted }, ctx));
            }
            if (style === 'url_elicitation_error') throw urlElicitationError(outcome.links);
            if (style === 'http_401') extras.authRequired = authRequiredBody(outcome.links);
            return ownAnswer(textPrompt(outcome.runId, outcome.links));
          case 'needs_input': {
            // The upstream's questions, passed on as they were asked, to a client that can show forms.
            if (era === 'modern' && answersForms(ctx)) {
              const { inputRequests, questions } = questionPrompts(outcome.inputs);
              return inputRequired({ inputRequests, requestState: await codec.mint({ ...sealOf(outcome.runId), asked: rounds.asked, questions }, ctx) });
            }
            // Any other client cannot answer: the asking step fails with that said, and the run goes on (or ends) as it handles that.
            const unanswerable = outcome.inputs.map((input) => ({
              inputId: input.inputId,
              waitingWorkflowId: input.waitingWorkflowId,
              unanswerable: `${input.server} ${input.tool} asks you ${describeQuestions(input)}, and this client cannot show such questions: answering needs an MCP 2026-07-28 client with form elicitation. Call the tool again from one, or use ${input.server} directly.`,
            }));
            const after = await deps.runner.attach(principal, outcome.runId, findTool, { answers: unanswerable });
            if (!after) throw new ProtocolError(ProtocolErrorCode.InternalError, `The run "${outcome.runId}" is no longer known.`);
            return answer(after);
          }
        }
      }

      function sealOf(runId: string): SealedRunState {
        return { runId, tenant: principal.tenant, subject: principal.subject, tool: name };
      }
    });
    return server;
  };

  async function promptStyle(era: 'legacy' | 'modern', ctx: ServerContext, principal: Principal): Promise<PromptStyle> {
    if (deps.gateway.consentPromptMode === 'http-401') return 'http_401';
    if (era === 'modern') {
      const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
      const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY] as { elicitation?: { url?: object } } | undefined;
      return capabilities?.elicitation?.url ? 'input_required' : 'text';
    }
    return (await deps.legacyClients.supportsUrlElicitation(principal)) ? 'url_elicitation_error' : 'text';
  }
}

/** A client's bad per-call headers (X-Baton-Forward-Headers) are its error, said as such. */
async function refusingBadOverrides<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof HeaderOverrideError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, error.message);
    throw error;
  }
}

/** Whether a 2026-era client takes form elicitations (`elicitation: {}` means forms, as in 2025-11-25). */
function answersForms(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const elicitation = (envelope?.[CLIENT_CAPABILITIES_META_KEY] as { elicitation?: { form?: object; url?: object } } | undefined)?.elicitation;
  return elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
}

/** One form elicitation per upstream question, under a key of Baton's (two waits may use the same upstream key). */
function questionPrompts(inputs: PendingInput[]): { inputRequests: InputRequests; questions: Record<string, AskedQuestion> } {
  const inputRequests: InputRequests = {};
  const questions: Record<string, AskedQuestion> = {};
  inputs.forEach((input, index) => {
    for (const [key, question] of Object.entries(input.questions)) {
      const promptKey = `question-${index + 1}-${key}`;
      inputRequests[promptKey] = inputRequired.elicit({
        message: `${input.server} asks: ${question.message}`,
        requestedSchema: question.requestedSchema as ElicitRequestFormParams['requestedSchema'],
      });
      questions[promptKey] = { inputId: input.inputId, key, waitingWorkflowId: input.waitingWorkflowId };
    }
  });
  return { inputRequests, questions };
}

function describeQuestions(input: PendingInput): string {
  return Object.values(input.questions)
    .map((question) => `"${question.message}"`)
    .join(', ');
}

/**
 * The user's answers to the questions the sealed state passed on, grouped per wait and under the upstream's
 * own keys. A question the retry left unanswered counts as cancelled: the upstream decides what that means.
 */
function answersOf(sealed: SealedRunState, responses: Record<string, unknown> | undefined): InputAnswerTo[] {
  const byInput = new Map<string, InputAnswerTo & { responses: Record<string, unknown> }>();
  for (const [promptKey, asked] of Object.entries(sealed.questions ?? {})) {
    const entry = byInput.get(asked.inputId) ?? { inputId: asked.inputId, waitingWorkflowId: asked.waitingWorkflowId, responses: {} };
    const response = inputResponse(responses, promptKey);
    entry.responses[asked.key] = response.kind === 'elicit' ? responses![promptKey] : { action: 'cancel' };
    byInput.set(asked.inputId, entry);
  }
  return [...byInput.values()];
}

/**
 * What the rounds of one 2026-era call have asked the user so far: the apps of earlier rounds, plus those
 * of the last round the user agreed to open (`accept` in `inputResponses`, under the keys the prompt
 * used); the apps whose prompt the user declined or cancelled are `dismissed`.
 */
function askedSoFar(sealed: SealedRunState, responses: Record<string, unknown> | undefined): { asked: AskedApps; dismissed: Set<string> } {
  const asked: AskedApps = { ...sealed.asked };
  const dismissed = new Set<string>();
  for (const [app, consentId] of Object.entries(sealed.prompted ?? {})) {
    const response = inputResponse(responses, promptKeyOf(app));
    if (response.kind === 'elicit' && response.action === 'accept') asked[app] = consentId;
    else if (response.kind === 'elicit') dismissed.add(app);
  }
  return { asked, dismissed };
}

export function extrasOf(authInfo: AuthInfo | undefined): RequestExtras {
  const extras = authInfo?.extra as RequestExtras | undefined;
  // The HTTP layer authenticates every request before MCP sees it; reaching here without is a wiring bug.
  if (!extras?.principal) throw new ProtocolError(ProtocolErrorCode.InternalError, 'Request reached the MCP server unauthenticated.');
  return extras;
}

function validate<T>(schema: z.ZodType<T>, args: unknown, tool: string): T {
  const parsed = schema.safeParse(args ?? {});
  if (!parsed.success) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid arguments for "${tool}": ${describeIssues(parsed.error).join('; ')}`);
  return parsed.data;
}

function jsonSchemaOf(schema: z.ZodType): Tool['inputSchema'] {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return jsonSchema as Tool['inputSchema'];
}

function describeTool(tool: CallableDefinition): Tool {
  // An upstream tool is described exactly as its server describes it, under Baton's name for it.
  if (isUpstreamTool(tool)) return { ...tool.upstream.tool, name: tool.name };
  return { name: tool.name, title: tool.title, description: tool.description, inputSchema: jsonSchemaOf(tool.input), annotations: tool.annotations };
}

function describeGetRunResult(): Tool {
  return {
    name: GET_RUN_RESULT,
    title: 'Get a run result',
    description: 'Wait for (and return) the result of a run started earlier, by the runId an earlier answer gave you. Also tells you which apps to connect if the run is waiting for you.',
    inputSchema: jsonSchemaOf(getRunResultInput),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  };
}
