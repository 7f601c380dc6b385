import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer, type CallToolResult } from '@modelcontextprotocol/server';
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { SandboxContext } from '../context.ts';
import { readAuthorization } from '../credentials.ts';
import { logRequests, noteCredential } from '../request-log.ts';
import { randomToken, sameSecret } from '../tokens.ts';
import { jsonRpcErrorBody } from './json-rpc.ts';

export const statusMcpPath = '/status/mcp';

export interface StatusIncident {
  id: string;
  service: string;
  title: string;
  state: 'investigating' | 'monitoring';
  startedAt: string;
}

export interface StatusSandbox {
  router: Router;
  /** `${sandboxUrl}/status/mcp`. */
  mcpUrl: string;
  apiKey: string;
  incidents(): StatusIncident[];
  close(): Promise<void>;
}

/** A status key looks like a vendor's: a prefix, then randomness. */
export function generateStatusApiKey(): string {
  return randomToken('status_', 24);
}

/**
 * The `status` upstream: an MCP server behind one organisation-wide API key in `X-Api-Key`, the other
 * common way MCP servers are protected. It knows nothing of users: every answer is the same for whoever
 * holds the key. Served statelessly in both protocol eras by the SDK's handler.
 */
export function createStatus(ctx: SandboxContext, options: { apiKey: string }): StatusSandbox {
  const mcpUrl = `${ctx.publicUrl()}${statusMcpPath}`;
  const incidents: StatusIncident[] = [{ id: 'INC-1001', service: 'jira', title: 'Issue search is slow', state: 'investigating', startedAt: new Date().toISOString() }];
  const slowDown = async (tool: string) => {
    const ms = ctx.delays.take('status', `/status/tools/${tool}`);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  };
  const structured = (value: Record<string, unknown>): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value });

  const build = () => {
    const server = new McpServer({ name: 'sandbox-status', version: '1.0.0' }, { instructions: 'Operational status of the sandbox services and their open incidents.' });
    server.registerTool(
      'service_status',
      {
        title: 'Service status',
        description: 'Whether a service is operational or degraded (degraded while an incident about it is open).',
        inputSchema: z.object({ service: z.string().min(1).max(100) }).strict(),
        outputSchema: z.object({ service: z.string(), state: z.enum(['operational', 'degraded']), checkedBy: z.literal('api-key') }).strict(),
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async ({ service }) => {
        await slowDown('service_status');
        const state = incidents.some((incident) => incident.service === service) ? 'degraded' : 'operational';
        return structured({ service, state, checkedBy: 'api-key' });
      },
    );
    server.registerTool(
      'list_incidents',
      {
        title: 'List incidents',
        description: 'The open incidents.',
        inputSchema: z.object({}).strict(),
        outputSchema: z
          .object({
            incidents: z.array(z.object({ id: z.string(), service: z.string(), title: z.string(), state: z.enum(['investigating', 'monitoring']), startedAt: z.string() }).strict()),
          })
          .strict(),
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async () => {
        await slowDown('list_incidents');
        return structured({ incidents: incidents.map((incident) => ({ ...incident })) });
      },
    );
    return server;
  };
  const handler = createMcpHandler(build, { legacy: 'stateless' });
  const serve = toNodeHandler(handler);

  const authenticate: RequestHandler = (req, res, next) => {
    const presented = req.get('x-api-key') ?? null;
    const scheme = readAuthorization(req.get('authorization')).scheme;
    const valid = presented !== null && sameSecret(presented, options.apiKey);
    noteCredential(res, {
      scheme,
      presented,
      user: valid ? 'api-key' : null,
      valid,
      kind: presented === null ? 'none' : 'api_key_header',
      ...(valid ? {} : { refusal: presented === null ? 'missing_api_key' : 'invalid_api_key' }),
    });
    if (valid) return next();
    res
      .status(401)
      .set('WWW-Authenticate', 'ApiKey realm="status", header="X-Api-Key"')
      .json(jsonRpcErrorBody(-32001, presented === null ? 'Unauthorized: send the API key in the X-Api-Key header.' : 'Unauthorized: the X-Api-Key header does not hold a valid key.'));
  };

  const router = express.Router();
  router.all(statusMcpPath, logRequests(ctx.requestLog, 'status', ''), ctx.delays.middleware('status', ''), authenticate, (req, res) => serve(req, res));
  return { router, mcpUrl, apiKey: options.apiKey, incidents: () => incidents.map((incident) => ({ ...incident })), close: () => handler.close() };
}
