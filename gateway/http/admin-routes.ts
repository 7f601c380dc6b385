import express, { type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import { actorOf } from '../audit/actor.ts';
import type { AccessGrants } from '../../core/access/access-grants.ts';
import type { AccessPolicy, Role } from '../access/access-policy.ts';
import { ApiTokenError, type ApiTokenStore } from '../../core/api-tokens/api-token-store.ts';
import { extrasOf } from '../mcp/mcp-server.ts';
import { roleGate } from './role-gate.ts';

export interface AdminDependencies {
  authenticate: RequestHandler;
  /** Names of the tools this gateway serves. */
  tools: readonly string[];
  policy: AccessPolicy;
  grants: AccessGrants;
  apiTokens: ApiTokenStore;
  audit: AuditLog;
}

/** What each role may do here. Roles come from the configuration file; none of them runs tools. */
const canRead: readonly Role[] = ['owner', 'admin', 'contributor', 'viewer'];
/** Tool settings (a tool's own access list) are "tool config": contributors may edit them. */
const canEditTools: readonly Role[] = ['owner', 'admin', 'contributor'];
const canChange: readonly Role[] = ['owner', 'admin'];

const grantBody = z.object({ kind: z.enum(['user', 'group', 'api_token']), value: z.string().min(1).max(200) }).strict();
const tokenBody = z.object({ name: z.string(), tenant: z.string().optional() }).strict();

/**
 * The admin API: access lists and API tokens, for signed-in users whose role allows it. Every change
 * is in the database and applies on the next call, on every gateway.
 */
export function adminRoutes(deps: AdminDependencies): Router {
  const router = express.Router();
  const allow = roleGate(deps.policy, deps.audit);
  const badRequest = (res: Response, message: string) => void res.status(400).json({ error: 'invalid_request', message });
  const server = (name: string, res: Response) => {
    if (deps.policy.server(name)) return true;
    res.status(404).json({ error: 'not_found', message: `There is no MCP server "${name}"; servers: ${deps.policy.servers().join(', ')}.` });
    return false;
  };

  /** Every change made here is in the audit trail, with who made it. */
  const changed = async (req: express.Request, action: string, detail: Record<string, string>): Promise<void> => {
    await deps.audit.record({ kind: 'admin.change', outcome: 'ok', actor: actorOf(extrasOf(req.auth).principal), client: extrasOf(req.auth).principal.clientId, action, detail });
  };

  // Route parameters, as plain strings (Express types a parameter as possibly repeated).
  const param = (req: express.Request, name: string) => String(req.params[name]);

  // Authentication first: nobody unauthenticated gets a body parsed (or a parser's error) on admin routes.
  router.use('/admin', deps.authenticate, express.json({ limit: '16kb' }));

  router.get('/admin/servers', allow(canRead, 'Reading the configuration'), async (_req, res) => {
    const servers = await Promise.all(deps.policy.servers().map(async (name) => ({ name, tools: deps.policy.server(name)!.tools, access: await deps.policy.accessList(name) })));
    res.json({ servers });
  });

  router.post('/admin/servers/:server/access', allow(canChange, 'Changing access lists'), async (req, res) => {
    if (!server(param(req, 'server'), res)) return;
    const body = grantBody.safeParse(req.body);
    if (!body.success) return badRequest(res, 'Send {"kind": "user" | "group" | "api_token", "value": "<name>"}.');
    const added = await deps.grants.add({ server: param(req, 'server'), ...body.data, addedBy: extrasOf(req.auth).principal.subject });
    if (added) await changed(req, 'access.grant', { list: param(req, 'server'), kind: body.data.kind, value: body.data.value });
    res.status(added ? 201 : 200).json({ access: await deps.policy.accessList(param(req, 'server')) });
  });

  router.delete('/admin/servers/:server/access/:kind/:value', allow(canChange, 'Changing access lists'), async (req, res) => {
    if (!server(param(req, 'server'), res)) return;
    const kind = grantBody.shape.kind.safeParse(param(req, 'kind'));
    if (!kind.success) return badRequest(res, 'The kind is user, group or api_token.');
    if (!(await deps.grants.remove(param(req, 'server'), kind.data, param(req, 'value')))) {
      res
        .status(404)
        .json({ error: 'not_found', message: `${kind.data} ${param(req, 'value')} was not granted at run time on ${param(req, 'server')}; entries from the configuration file are changed there.` });
      return;
    }
    await changed(req, 'access.revoke', { list: param(req, 'server'), kind: kind.data, value: param(req, 'value') });
    res.json({ access: await deps.policy.accessList(param(req, 'server')) });
  });

  router.get('/admin/tools', allow(canRead, 'Reading the configuration'), async (_req, res) => {
    res.json({ tools: await Promise.all(deps.tools.map(async (name) => ({ name, access: (await deps.policy.toolAccessList(name)) ?? null }))) });
  });

  router.post('/admin/tools/:tool/access', allow(canEditTools, "Changing a tool's access list"), async (req, res) => {
    const tool = param(req, 'tool');
    if (!deps.tools.includes(tool)) return void res.status(404).json({ error: 'not_found', message: `There is no tool "${tool}".` });
    const body = grantBody.safeParse(req.body);
    if (!body.success) return badRequest(res, 'Send {"kind": "user" | "group" | "api_token", "value": "<name>"}.');
    const added = await deps.grants.add({ server: `tool:${tool}`, ...body.data, addedBy: extrasOf(req.auth).principal.subject });
    if (added) await changed(req, 'access.grant', { list: `tool:${tool}`, kind: body.data.kind, value: body.data.value });
    res.status(added ? 201 : 200).json({ access: await deps.policy.toolAccessList(tool) });
  });

  router.delete('/admin/tools/:tool/access/:kind/:value', allow(canEditTools, "Changing a tool's access list"), async (req, res) => {
    const kind = grantBody.shape.kind.safeParse(param(req, 'kind'));
    if (!kind.success) return badRequest(res, 'The kind is user, group or api_token.');
    if (!(await deps.grants.remove(`tool:${param(req, 'tool')}`, kind.data, param(req, 'value')))) {
      return void res.status(404).json({ error: 'not_found', message: `${kind.data} ${param(req, 'value')} was not granted at run time on ${param(req, 'tool')}.` });
    }
    await changed(req, 'access.revoke', { list: `tool:${param(req, 'tool')}`, kind: kind.data, value: param(req, 'value') });
    res.json({ access: (await deps.policy.toolAccessList(param(req, 'tool'))) ?? null });
  });

  router.get('/admin/api-tokens', allow(canChange, 'Listing API tokens'), async (_req, res) => void res.json({ apiTokens: await deps.apiTokens.list() }));

  router.post('/admin/api-tokens', allow(canChange, 'Creating API tokens'), async (req, res) => {
    const body = tokenBody.safeParse(req.body);
    if (!body.success) return badRequest(res, 'Send {"name": "<token name>", "tenant"?: "<tenant>"}.');
    let created;
    try {
      created = await deps.apiTokens.create(body.data.name, { tenant: body.data.tenant });
    } catch (error) {
      if (!(error instanceof ApiTokenError)) throw error;
      return badRequest(res, error.message);
    }
    await changed(req, 'api_token.create', { name: body.data.name });
    res.status(201).json(created);
  });

  router.delete('/admin/api-tokens/:name', allow(canChange, 'Revoking API tokens'), async (req, res) => {
    if (!(await deps.apiTokens.revoke(param(req, 'name')))) {
      res.status(404).json({ error: 'not_found', message: `No active API token is named or numbered "${param(req, 'name')}".` });
      return;
    }
    await changed(req, 'api_token.revoke', { name: param(req, 'name') });
    res.json({ revoked: param(req, 'name') });
  });

  return router;
}
