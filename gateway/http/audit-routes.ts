import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { AuditFilterError, parseAuditFilter } from '../../core/audit/audit-filter.ts';
import type { AuditFilter, AuditLog } from '../../core/audit/audit-log.ts';
import type { AccessPolicy, Role } from '../access/access-policy.ts';
import { actorOf } from '../audit/actor.ts';
import type { Principal } from '../auth/principal.ts';
import { extrasOf } from '../mcp/mcp-server.ts';

export interface AuditRouteDependencies {
  authenticate: RequestHandler;
  policy: AccessPolicy;
  audit: AuditLog;
}

/** Roles that read everyone's trail; everybody else reads their own. */
export const auditReaders: readonly Role[] = ['owner', 'admin'];

export function readsEveryonesAudit(policy: AccessPolicy, principal: Principal): boolean {
  const role = principal.authMethod === 'oauth' ? policy.roleOf(principal) : undefined;
  return role !== undefined && auditReaders.includes(role);
}

const whoQuery = z.object({ app: z.string().min(1).max(100), object: z.string().min(1).max(300) }).strict();

/**
 * The audit API: `GET /api/audit` (filtered, newest first, paged with `before`), `GET /api/audit/export`
 * (JSON Lines, oldest first) and `GET /api/audit/who?app=&object=` ("who made that change?"). A user
 * reads their own records; the owner and admin roles read everyone's.
 */
export function auditRoutes(deps: AuditRouteDependencies): Router {
  const router = express.Router();
  router.use('/api/audit', deps.authenticate);

  /** A 403 that names what was asked for, and is itself an audit record. */
  const refuse = async (req: Request, res: Response, message: string, askedFor: string | null): Promise<undefined> => {
    const { principal } = extrasOf(req.auth);
    await deps.audit.record({ kind: 'access.denied', outcome: 'denied', actor: actorOf(principal), client: principal.clientId, action: `GET ${req.path}`, message, detail: { askedFor } });
    res.status(403).json({ error: 'forbidden', message });
    return undefined;
  };

  /** The caller's filter, narrowed to their own records unless their role reads everyone's (in their tenant, unless global); undefined when refused. */
  const scopedFilter = async (req: Request, res: Response, filter: AuditFilter): Promise<AuditFilter | undefined> => {
    const { principal } = extrasOf(req.auth);
    if (readsEveryonesAudit(deps.policy, principal)) {
      if (deps.policy.isGlobal(principal)) return filter;
      if (filter.tenant === undefined || filter.tenant === principal.tenant) return { ...filter, tenant: principal.tenant };
      return refuse(req, res, `Your role reads tenant ${principal.tenant}'s records only; tenant ${filter.tenant}'s need a global role.`, filter.tenant);
    }
    if ((filter.subject !== undefined && filter.subject !== principal.subject) || (filter.tenant !== undefined && filter.tenant !== principal.tenant)) {
      return refuse(req, res, `You can read only your own audit records (${principal.subject}); everyone's needs the ${auditReaders.join(' or ')} role.`, filter.subject ?? null);
    }
    return { ...filter, tenant: principal.tenant, subject: principal.subject };
  };

  const parsed = async (req: Request, res: Response, query: Record<string, unknown>): Promise<AuditFilter | undefined> => {
    let filter: AuditFilter;
    try {
      filter = parseAuditFilter(query);
    } catch (error) {
      if (!(error instanceof AuditFilterError)) throw error;
      res.status(400).json({ error: 'invalid_request', message: error.message });
      return undefined;
    }
    return scopedFilter(req, res, filter);
  };

  router.get('/api/audit', async (req, res) => {
    const filter = await parsed(req, res, req.query);
    if (!filter) return;
    const records = await deps.audit.query(filter);
    const limit = filter.limit ?? 100;
    res.json({ records, next: records.length === limit ? { before: records.at(-1)!.seq } : null });
  });

  router.get('/api/audit/export', async (req, res) => {
    const { limit: _limit, before: _before, ...query } = req.query;
    const filter = await parsed(req, res, query);
    if (!filter) return;
    res.type('application/x-ndjson').set('content-disposition', 'attachment; filename="baton-audit.jsonl"');
    for await (const record of deps.audit.stream(filter)) res.write(`${JSON.stringify(record)}\n`);
    res.end();
  });

  router.get('/api/audit/who', async (req, res) => {
    const query = whoQuery.safeParse(req.query);
    if (!query.success) return void res.status(400).json({ error: 'invalid_request', message: 'Ask with ?app=<app>&object=<id>, e.g. ?app=jira&object=OPS-12 or ?app=github&object=comment:981.' });
    const { principal } = extrasOf(req.auth);
    const everyone = readsEveryonesAudit(deps.policy, principal);
    const changes = (await deps.audit.whoChanged(query.data.app, query.data.object)).filter(
      (record) =>
        (everyone && (record.actor.tenant === principal.tenant || deps.policy.isGlobal(principal))) || (record.actor.tenant === principal.tenant && record.actor.subject === principal.subject),
    );
    res.json({
      app: query.data.app,
      object: query.data.object,
      changes: changes.map((record) => ({
        person: record.actor,
        at: new Date(record.at).toISOString(),
        tool: record.tool,
        action: record.action,
        rootRunId: record.rootRunId,
        runPath: record.runPath,
        credential: record.credential,
        objectRef: record.objectRef,
        upstreamStatus: record.upstreamStatus,
        seq: record.seq,
      })),
    });
  });

  return router;
}
