import { toWebRequest } from '@modelcontextprotocol/node';
import type { McpHttpHandler } from '@modelcontextprotocol/server';
import express, { type ErrorRequestHandler, type RequestHandler, type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import type { LegacyClientCapabilities } from '../../core/mcp/legacy-clients.ts';
import { extrasOf } from '../mcp/mcp-server.ts';
import { echoableId, jsonRpcShapeProblem } from './json-rpc-shape.ts';

export interface McpEndpointOptions {
  /** `/mcp` for the default server, `/mcp/{server}` for a virtual one. */
  path: string;
  handler: McpHttpHandler;
  authenticate: RequestHandler;
  legacyClients: LegacyClientCapabilities;
  maxBodyBytes: number;
  rateLimitPerMinute: number;
  /** `http-401` prompt mode: tool calls are answered whole, so a pause can still become an HTTP 401. */
  consentAsHttp401: boolean;
  log: Logger;
}

const jsonRpcError = (res: Response, status: number, code: number, message: string, id: string | number | null = null) =>
  void res.status(status).json({ jsonrpc: '2.0', id, error: { code, message } });

/**
 * One MCP server's endpoint (`/mcp` or `/mcp/{server}`): body limits and JSON-RPC shape first (cheap, before anything else), then who is calling, a
 * per-caller rate limit, and the MCP SDK's stateless handler for both protocol eras.
 */
export function mcpEndpoint(options: McpEndpointOptions): Router {
  const router = express.Router();
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: options.rateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => {
      const { principal } = extrasOf(req.auth);
      return `${principal.tenant}\0${principal.subject}`;
    },
    handler: (req, res) => jsonRpcError(res, 429, -32000, `Too many requests: at most ${options.rateLimitPerMinute} per minute per caller. Wait a minute and try again.`, echoableId(req.body)),
  });

  router.post(
    options.path,
    express.json({ limit: options.maxBodyBytes, type: () => true, strict: false }),
    (req, res, next) => {
      const problem = jsonRpcShapeProblem(req.body);
      if (problem) jsonRpcError(res, 400, -32600, problem, echoableId(req.body));
      else next();
    },
    options.authenticate,
    limiter,
    async (req, res) => {
      const body = req.body as { method?: string; params?: { capabilities?: unknown } };
      const extras = extrasOf(req.auth);
      if (body.method === 'initialize') await options.legacyClients.recordInitialize(extras.principal, body.params?.capabilities);
      await serve(options, req, res, body);
    },
  );
  router.all(options.path, options.authenticate, limiter, (req, res) => serve(options, req, res, undefined));
  router.use(options.path, bodyErrors(options));
  return router;
}

async function serve(options: McpEndpointOptions, req: express.Request, res: Response, parsedBody: unknown): Promise<void> {
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  const extras = extrasOf(req.auth);
  try {
    const request = await toWebRequest(req, parsedBody, { signal: controller.signal });
    const answer = await options.handler.fetch(request, { authInfo: req.auth, parsedBody });
    const isToolCall = (parsedBody as { method?: string } | undefined)?.method === 'tools/call';
    // A streamed answer may start before the tool decides; in 401 mode wait for the whole of it.
    const whole = options.consentAsHttp401 && isToolCall ? await answer.text() : undefined;
    if (extras.authRequired) {
      res.status(401).json(extras.authRequired);
      return;
    }
    res.status(answer.status);
    answer.headers.forEach((value, name) => res.setHeader(name, value));
    if (whole !== undefined) {
      res.end(whole);
      return;
    }
    if (!answer.body) {
      res.end();
      return;
    }
    res.flushHeaders();
    Readable.fromWeb(answer.body as WebReadableStream).pipe(res);
  } catch (error) {
    options.log.error({ err: error }, 'MCP request failed');
    if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error in the gateway; the request was not completed. Try again.', echoableId(parsedBody));
  }
}

/** Oversized or unparseable bodies get a JSON-RPC error, not an HTML stack trace. */
function bodyErrors(options: McpEndpointOptions): ErrorRequestHandler {
  return (error: { type?: string; status?: number }, _req, res, next) => {
    if (error.type === 'entity.too.large') jsonRpcError(res, 413, -32600, `Request body too large: the limit is ${options.maxBodyBytes} bytes.`);
    else if (error.type === 'entity.parse.failed') jsonRpcError(res, 400, -32700, 'Parse error: the body is not valid JSON.');
    else if (error.status && error.status < 500) jsonRpcError(res, error.status, -32600, 'The request body could not be read.');
    else next(error);
  };
}
