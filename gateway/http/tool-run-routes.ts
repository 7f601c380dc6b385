import express, { type ErrorRequestHandler, type RequestHandler, type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import { describeIssues } from '../../core/schema-issues.ts';
import type { ToolAccess, ToolDecision } from '../access/tool-access.ts';
import { actorOf } from '../audit/actor.ts';
import type { Principal } from '../auth/principal.ts';
import { HEADER_OVERRIDE, HeaderOverrideError } from '../mcp/header-override.ts';
import { extrasOf } from '../mcp/mcp-server.ts';
import type { CallOutcome, ToolRunner } from '../mcp/tool-runner.ts';
import { InvalidToolInputError } from '../temporal/start-tool.ts';

export interface ToolRunRoutesDependencies {
  /** The gateway's bearer authentication (identity-provider tokens for its resource, API tokens). */
  authenticate: RequestHandler;
  access: ToolAccess;
  runner: ToolRunner;
  audit: AuditLog;
  /** The MCP server whose access lists apply: the one whose resource URL the API's tokens name. */
  server: string;
  /** How long a POST waits for the run when the body names no `wait`. */
  defaultWaitSeconds: number;
  /** The most a POST may wait (BATON_MCP_WAIT_SECONDS); a larger `wait` is cut to it. */
  maxWaitSeconds: number;
  maxBodyBytes: number;
  rateLimitPerMinute: number;
  log: Logger;
}

const runBody = z
  .object({
    arguments: z.unknown().optional(),
    wait: z.number().min(0).optional(),
  })
  .strict();

/** A refusal as an HTTP answer: unknown tools are 404, access decisions 403 (and audited, as over MCP). */
export async function refuseTool(
  res: Response,
  decision: Exclude<ToolDecision, { allowed: true }>,
  context: { principal: Principal; audit: AuditLog; server: string; name: string; action: string },
): Promise<void> {
  if (decision.refusal === 'unknown_tool') {
    res.status(404).json({ error: 'unknown_tool', message: decision.message });
    return;
  }
  const { principal } = context;
  await context.audit.record({
    kind: 'access.denied',
    outcome: 'denied',
    actor: actorOf(principal),
    client: principal.clientId,
    server: context.server,
    tool: context.name,
    action: context.action,
    message: decision.message,
  });
  res.status(403).json({ error: 'forbidden', message: decision.message });
}

/** The tool's own schema decides; the issues go back to the caller as they are. */
export function validateToolInput(res: Response, tool: { name: string; input: z.ZodType }, args: unknown): { ok: true; input: unknown } | { ok: false } {
  const parsed = tool.input.safeParse(args ?? {});
  if (parsed.success) return { ok: true, input: parsed.data };
  const issues = describeIssues(parsed.error);
  res.status(400).json({ error: 'invalid_arguments', message: `Invalid arguments for "${tool.name}": ${issues.join('; ')}`, issues });
  return { ok: false };
}

/** A per-caller rate limit for the API's writes, as the MCP endpoint has. */
export function perCallerRateLimit(limit: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => {
      const { principal } = extrasOf(req.auth);
      return `${principal.tenant}\0${principal.subject}`;
    },
    handler: (_req, res) => void res.status(429).json({ error: 'rate_limited', message: `Too many requests: at most ${limit} per minute per caller. Wait a minute and try again.` }),
  });
}

/** Unreadable or oversized JSON bodies get a JSON answer, not an HTML page. */
export function jsonBodyErrors(maxBodyBytes: number): ErrorRequestHandler {
  return (error: { type?: string; status?: number }, _req, res, next) => {
    if (error.type === 'entity.too.large') res.status(413).json({ error: 'too_large', message: `Request body too large: the limit is ${maxBodyBytes} bytes.` });
    else if (error.type === 'entity.parse.failed') res.status(400).json({ error: 'invalid_request', message: 'The body is not valid JSON.' });
    else if (error.status && error.status < 500) res.status(error.status).json({ error: 'invalid_request', message: 'The request body could not be read.' });
    else next(error);
  };
}

/**
 * The HTTP trigger: `POST /api/tools/{name}/runs` with `{"arguments": {...}, "wait": seconds}` runs a
 * tool as the authenticated caller — the same access decision, input schema, identity signing and run
 * registry as an MCP tools/call — and waits up to `wait` seconds for it. 200 with the result (or with
 * `status: "failed"`), or 202 when the run is still going or waits for the caller to connect an app
 * (with the consent links). Every answer names the run in `Location: /api/runs/{id}`, where its owner
 * (and only its owner) can follow it.
 */
export function toolRunRoutes(deps: ToolRunRoutesDependencies): Router {
  const router = express.Router();
  const path = '/api/tools/:name/runs';

  router.post(path, deps.authenticate, perCallerRateLimit(deps.rateLimitPerMinute), express.json({ limit: deps.maxBodyBytes, type: () => true, strict: false }), async (req, res, next) => {
    const { principal } = extrasOf(req.auth);
    const name = String(req.params.name);
    const body = runBody.safeParse(req.body ?? {});
    if (!body.success) {
      res.status(400).json({ error: 'invalid_request', message: `Send {"arguments": {...}, "wait": seconds (optional, at most ${deps.maxWaitSeconds})}: ${describeIssues(body.error).join('; ')}` });
      return;
    }
    const decision = await deps.access.decide(principal, deps.server, name);
    if (!decision.allowed) return refuseTool(res, decision, { principal, audit: deps.audit, server: deps.server, name, action: `POST /api/tools/${name}/runs` });
    const valid = validateToolInput(res, decision.tool, body.data.arguments);
    if (!valid.ok) return;
    const waitSeconds = Math.min(body.data.wait ?? deps.defaultWaitSeconds, deps.maxWaitSeconds);
    let outcome: CallOutcome;
    try {
      outcome = await deps.runner.call(
        principal,
        decision.tool,
        valid.input,
        { token: req.auth!.token, headerOverride: req.get(HEADER_OVERRIDE) ?? null, server: deps.server },
        { fresh: true, waitMs: Math.round(waitSeconds * 1000) },
      );
    } catch (error) {
      if (error instanceof HeaderOverrideError) return void res.status(400).json({ error: 'invalid_request', message: error.message });
      if (error instanceof InvalidToolInputError) return void res.status(400).json({ error: 'invalid_arguments', message: error.message, issues: error.issues });
      deps.log.error({ err: error, tool: name }, 'starting a run over the HTTP API failed');
      return next(error);
    }
    res.set('Cache-Control', 'no-store').location(`/api/runs/${encodeURIComponent(outcome.runId)}`);
    switch (outcome.kind) {
      case 'completed':
        res.status(200).json({ runId: outcome.runId, status: 'completed', result: outcome.result });
        return;
      case 'failed':
        res.status(200).json({ runId: outcome.runId, status: 'failed', error: outcome.message });
        return;
      case 'needs_consent':
        res.status(202).json({ runId: outcome.runId, status: 'waiting', waitingFor: outcome.links.map((link) => ({ app: link.app, appName: link.appName, connectUrl: link.url })) });
        return;
      case 'needs_input':
        // Answered from an MCP client that shows forms (2026-07-28): get_run_result with this runId passes the questions on.
        res.status(202).json({
          runId: outcome.runId,
          status: 'waiting',
          waitingFor: [],
          questions: outcome.inputs.flatMap((input) => Object.values(input.questions).map((question) => ({ server: input.server, tool: input.tool, message: question.message }))),
          answerWith: `get_run_result from an MCP client with form elicitation (2026-07-28), runId "${outcome.runId}"`,
        });
        return;
      case 'still_running':
        res.status(202).json({ runId: outcome.runId, status: 'running', waitingFor: [] });
        return;
    }
  });
  router.use(path, jsonBodyErrors(deps.maxBodyBytes));
  router.use(path, ((error, _req, res, next) => {
    if (res.headersSent) return next(error);
    res.status(500).json({ error: 'internal_error', message: 'Internal error in the gateway; the run may not have started. Try again.' });
  }) as ErrorRequestHandler);

  return router;
}
