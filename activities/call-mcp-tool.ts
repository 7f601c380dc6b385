import type { JsonSchemaValidator, Tool } from '@modelcontextprotocol/client';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/client/validators/ajv';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AppSettings } from '../core/config/settings.ts';
import { UpstreamError } from '../core/upstreams/errors.ts';
import type { UpstreamCatalogue } from '../core/upstreams/upstream-catalogue.ts';
import type { UpstreamClients, UpstreamTarget } from '../core/upstreams/upstream-client.ts';
import { isConnectionRequired, messageOf, startAudit } from './app-call-audit.ts';
import { auditContextOf } from './audit-context.ts';
import type { CallAppDependencies } from './call-app.ts';
import { currentCaller } from './caller-context.ts';
import { asksForInput, FailureType, type CallAppInput, type CallMcpToolInput, type McpInputRequired, type McpToolResult } from './contract.ts';
import { connectionRequired, resolveCredential, type PresentedCredential } from './credentials.ts';
import { extraHeaders } from './extra-headers.ts';

export interface CallMcpToolDependencies extends CallAppDependencies {
  upstreams: UpstreamClients;
  catalogue: UpstreamCatalogue;
}

const HEARTBEAT_EVERY_MS = 2_000;

/**
 * The one way workflow code reaches an upstream MCP server's tool, with everything callApp promises: the
 * verified caller's credential in the configured mode (pausing for consent when the user has not
 * connected the upstream, or the upstream refuses their token), the arguments checked against the tool's
 * input schema before anything is sent, one audit record per call naming person, upstream, tool and whose
 * credential, and a step key so a retried or resumed step is not sent twice.
 */
export function createCallMcpTool(deps: CallMcpToolDependencies, callApp: (input: CallAppInput) => Promise<unknown>) {
  const ajv = new AjvJsonSchemaValidator();
  // Compiled once per tool definition the catalogue holds (a new list brings new definitions, compiled anew).
  const validators = new WeakMap<Tool, JsonSchemaValidator<Record<string, unknown>>>();
  const validatorOf = (tool: Tool) => {
    let validator = validators.get(tool);
    if (!validator) validators.set(tool, (validator = ajv.getValidator<Record<string, unknown>>(tool.inputSchema as never)));
    return validator;
  };
  return async function callMcpTool({ server, tool, arguments: args, stepKey, answer: userAnswer }: CallMcpToolInput): Promise<McpToolResult | McpInputRequired> {
    const exposed = deps.settings.apps.get(server);
    if (exposed && !exposed.connector.upstream) return callExposedAction(exposed, tool, args, stepKey, callApp);
    const caller = currentCaller();
    const app = upstreamApp(deps, server);
    const upstream = app.connector.upstream!;
    const name = app.connector.displayName;
    if (upstream.tools !== '*' && !upstream.tools.includes(tool)) {
      throw ApplicationFailure.nonRetryable(`${name} does not expose "${tool}" through Baton (mcpServers.${server}.tools).`, FailureType.unknownAction);
    }
    // An upstream's credential comes from mcpServers.<id> only (the configuration refuses per-tool overrides for it).
    const mode = app.credential?.mode ?? app.mode;
    const stated = app.credential?.mode === 'service_account' ? app.credential.reason : undefined;
    const reason = `${stated ? `${stated} (` : ''}mcpServers.${server}.credential: ${mode}${stated ? ')' : ''}`;
    const audit = startAudit(deps.audit, caller, { app: server, action: tool, stepKey, mode, reason });
    const done = await deps.steps.find(stepKey);
    if (done) {
      await audit.finish({ outcome: 'replayed' });
      return done.result as McpToolResult;
    }

    let credential: PresentedCredential;
    let target: UpstreamTarget;
    try {
      credential = await resolveCredential(caller, app.connector, app, deps);
      // The credential wins over a configured extra header of the same name.
      const headers = { ...(await extraHeaders(caller, app.connector, app, deps)), ...credential.headers };
      target = { id: server, upstream, headers, query: credential.query };
    } catch (error) {
      await audit.finish({ outcome: isConnectionRequired(error) ? 'connection_required' : 'failed', error: messageOf(error) });
      throw error;
    }
    audit.credential(credential);

    const heartbeat = setInterval(() => Context.current().heartbeat(), HEARTBEAT_EVERY_MS);
    let definition: Tool | undefined;
    try {
      definition = await deps.catalogue.tool(server, upstream, tool, target);
      if (!definition) throw new UpstreamError('unknown_tool', `${name} has no tool "${tool}" (it may have been removed); call tools/list for the current tools.`);
      const checked = validatorOf(definition)(args);
      if (!checked.valid) throw new UpstreamError('invalid_arguments', `Invalid arguments for ${name} ${tool}: ${checked.errorMessage}`);
      const result = await deps.upstreams.callTool(target, tool, args, { signal: Context.current().cancellationSignal, answer: userAnswer });
      if (asksForInput(result)) {
        // Questions for the user: not the step's result (nothing is saved), the workflow asks and calls again.
        await audit.finish({
          outcome: 'input_required',
          error: Object.values(result.inputRequired.questions)
            .map((question) => question.message)
            .join('; '),
        });
        return result;
      }
      const { content, structuredContent, isError } = result as McpToolResult;
      const answer: McpToolResult = { content: content ?? [], ...(structuredContent ? { structuredContent } : {}), ...(isError ? { isError: true } : {}) };
      await deps.steps.save(stepKey, answer);
      await audit.finish({ outcome: answer.isError ? 'tool_error' : 'ok' });
      return answer;
    } catch (error) {
      throw await failure(error);
    } finally {
      clearInterval(heartbeat);
    }

    async function failure(raised: unknown): Promise<Error> {
      let error = raised;
      if (error instanceof UpstreamError && error.code === 'unknown_tool') {
        // The upstream no longer has the tool Baton's list named: forget the list, and say so in Baton's words.
        deps.catalogue.invalidate(server);
        error = new UpstreamError('unknown_tool', `${name} has no tool "${tool}" (it may have been removed); call tools/list for the current tools.`);
      }
      if (!(error instanceof UpstreamError)) {
        await audit.finish({ outcome: 'failed', error: messageOf(error) });
        return error as Error;
      }
      if (error.code === 'auth_required' && credential.owner === 'user') {
        await audit.finish({ outcome: 'credential_rejected', error: error.message });
        // The upstream no longer honours this user's token (or asks them to authorise it): ask the user again.
        if (await deps.vault.markConnection(caller.identity.tenant, caller.identity.subject, server, 'needs_reconsent', error.message)) {
          await deps.audit.record({ ...auditContextOf(caller), kind: 'connection.needs_reconsent', outcome: 'needs_reconsent', app: server, message: error.message });
        }
        return connectionRequired(app.connector, app, 'revoked', `${error.message}; ${caller.identity.subject} must connect ${name} again.`);
      }
      await audit.finish({ outcome: error.code === 'auth_required' ? 'credential_rejected' : 'failed', error: error.message });
      // MCP has no idempotency key: a call that may have reached the upstream is tried again only when the tool
      // says that is harmless (read-only or idempotent); one that never got through (unreachable) always is.
      const harmless = definition?.annotations?.readOnlyHint === true || definition?.annotations?.idempotentHint === true;
      if (error.retryable && (error.code === 'unreachable' || harmless)) return new Error(error.message);
      const type = error.code === 'invalid_arguments' ? FailureType.invalidActionInput : error.code === 'unknown_tool' ? FailureType.unknownAction : FailureType.appRequestFailed;
      return ApplicationFailure.nonRetryable(error.message, type, { app: server, tool, code: error.code });
    }
  };
}

/**
 * An app action served as an MCP tool (`apps.<id>.expose`): the app call itself (callApp: credential, consent,
 * audit, step key), answered as a tool result. Only an action the configuration exposes; any other is unknown.
 */
async function callExposedAction(app: AppSettings, action: string, args: Record<string, unknown>, stepKey: string, callApp: (input: CallAppInput) => Promise<unknown>): Promise<McpToolResult> {
  const exposed = app.expose === true ? Object.keys(app.connector.actions) : (app.expose ?? []);
  if (!exposed.includes(action)) {
    throw ApplicationFailure.nonRetryable(`${app.connector.displayName} does not expose "${action}" as a tool (apps.${app.id}.expose).`, FailureType.unknownAction);
  }
  const result = await callApp({ app: app.id, action, input: args, stepKey });
  const structured = result !== null && typeof result === 'object' && !Array.isArray(result) ? (result as Record<string, unknown>) : { result };
  return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: structured };
}

function upstreamApp(deps: CallMcpToolDependencies, server: string): AppSettings {
  const app = deps.settings.apps.get(server);
  if (app?.connector.upstream) return app;
  const known = [...deps.settings.apps.values()].filter((candidate) => candidate.connector.upstream).map((candidate) => candidate.id);
  throw ApplicationFailure.nonRetryable(`Unknown MCP server "${server}". Known MCP servers: ${known.join(', ') || 'none (mcpServers in baton.yaml)'}.`, FailureType.unknownApp);
}
