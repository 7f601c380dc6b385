import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { ScheduleRecord, ScheduleStore, ScheduleTiming } from '../../core/schedules/schedule-store.ts';
import { describeIssues } from '../../core/schema-issues.ts';
import type { AccessPolicy } from '../access/access-policy.ts';
import type { ToolAccess } from '../access/tool-access.ts';
import type { Principal } from '../auth/principal.ts';
import { extrasOf } from '../mcp/mcp-server.ts';
import type { ToolRunner } from '../mcp/tool-runner.ts';
import { InvalidScheduleError, type ScheduleService } from '../schedules/schedule-service.ts';
import type { ScheduleSettings } from '../schedules/schedule-settings.ts';
import { roleCheck } from './role-gate.ts';
import { jsonBodyErrors, perCallerRateLimit, refuseTool, validateToolInput } from './tool-run-routes.ts';

export interface ScheduleRoutesDependencies {
  authenticate: RequestHandler;
  access: ToolAccess;
  runner: ToolRunner;
  policy: AccessPolicy;
  service: ScheduleService;
  store: ScheduleStore;
  audit: AuditLog;
  settings: ScheduleSettings;
  /** The MCP server whose access lists apply (as for the HTTP API's runs). */
  server: string;
  maxBodyBytes: number;
  rateLimitPerMinute: number;
  log: Logger;
}

const MAX_INTERVAL_SECONDS = 366 * 24 * 60 * 60;

const scheduleBody = (minInterval: number) =>
  z
    .object({
      tool: z.string().min(1).max(64),
      arguments: z.unknown().optional(),
      cron: z.string().trim().min(1).max(200).optional(),
      intervalSeconds: z.number().int().min(minInterval, `must be at least ${minInterval}`).max(MAX_INTERVAL_SECONDS).optional(),
      timezone: z.string().min(1).max(64).optional(),
      note: z.string().max(500).optional(),
    })
    .strict()
    .refine((body) => (body.cron === undefined) !== (body.intervalSeconds === undefined), { message: 'give exactly one of "cron" and "intervalSeconds"' })
    .refine((body) => body.timezone === undefined || body.cron !== undefined, { message: '"timezone" applies to "cron" only' });

const listQuery = z.object({ all: z.enum(['true', 'false']).optional() }).strict();

/** Everyone's schedules are for owners and admins to see; only its owner reads one in detail or deletes it. */
const canSeeAll = ['owner', 'admin'] as const;

/**
 * A user's schedules: `POST /api/schedules` creates one (`{tool, arguments, cron | intervalSeconds,
 * timezone?, note?}`) that runs the tool as its creator, `GET /api/schedules` lists the caller's own
 * (`?all=true`: everyone's, for owners and admins), `GET /api/schedules/:id` shows one with what Temporal
 * says of it, `DELETE /api/schedules/:id` deletes one. Someone else's schedule id is a 404, like an
 * unknown one. Creating one takes the same access decision and input validation as running the tool.
 */
export function scheduleRoutes(deps: ScheduleRoutesDependencies): Router {
  const router = express.Router();
  const allowed = roleCheck(deps.policy, deps.audit);
  const body = scheduleBody(deps.settings.minIntervalSeconds);
  router.use('/api/schedules', deps.authenticate);

  router.post('/api/schedules', perCallerRateLimit(deps.rateLimitPerMinute), express.json({ limit: deps.maxBodyBytes, type: () => true, strict: false }), async (req, res, next) => {
    const { principal } = extrasOf(req.auth);
    const parsed = body.safeParse(req.body ?? {});
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_request', message: `Send {"tool", "arguments", "cron" or "intervalSeconds", "timezone"?, "note"?}: ${describeIssues(parsed.error).join('; ')}` });
      return;
    }
    const { tool: name, cron, intervalSeconds, timezone, note } = parsed.data;
    const decision = await deps.access.decide(principal, deps.server, name);
    if (!decision.allowed) return refuseTool(res, decision, { principal, audit: deps.audit, server: deps.server, name, action: 'POST /api/schedules' });
    const { tool } = decision;
    if (deps.runner.usesCallerToken(tool)) {
      res.status(400).json({ error: 'not_schedulable', message: `"${name}" acts with the caller's own sign-in token, which a schedule cannot keep; run it yourself instead.` });
      return;
    }
    const valid = validateToolInput(res, tool, parsed.data.arguments);
    if (!valid.ok) return;
    if ((await deps.store.countFor(principal)) >= deps.settings.maxPerUser) {
      res.status(409).json({ error: 'too_many_schedules', message: `You have ${deps.settings.maxPerUser} schedules, the most one user may keep; delete one first.` });
      return;
    }
    const timing: ScheduleTiming = cron !== undefined ? { cron, ...(timezone ? { timezone } : {}) } : { intervalSeconds };
    try {
      const created = await deps.service.create(principal, { tool, input: valid.input, timing, note: note ?? null, server: deps.server });
      res
        .status(201)
        .location(`/api/schedules/${encodeURIComponent(created.id)}`)
        .json(shown(created));
    } catch (error) {
      if (error instanceof InvalidScheduleError) return void res.status(400).json({ error: 'invalid_schedule', message: error.message });
      deps.log.error({ err: error, tool: name }, 'creating a schedule failed');
      next(error);
    }
  });

  router.get('/api/schedules', async (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) return void res.status(400).json({ error: 'invalid_request', message: 'The only parameter is all=true (owners and admins).' });
    const { principal } = extrasOf(req.auth);
    if (query.data.all !== 'true') return void res.set('Cache-Control', 'no-store').json({ schedules: (await deps.store.listFor(principal)).map(shown) });
    if (!(await allowed(canSeeAll, "Listing everyone's schedules", req, res))) return;
    // Everyone's within the caller's tenant, unless their role is global.
    const schedules = (await deps.store.listAll(1000)).filter((schedule) => deps.policy.isGlobal(principal) || schedule.tenant === principal.tenant);
    res.set('Cache-Control', 'no-store').json({ schedules: schedules.map((schedule) => ({ ...shown(schedule), owner: { tenant: schedule.tenant, subject: schedule.subject } })) });
  });

  router.get('/api/schedules/:id', async (req, res, next) => {
    const schedule = await visibleTo(req, extrasOf(req.auth).principal);
    if (!schedule) return notFound(req, res);
    try {
      const live = await deps.service.liveState(schedule.id);
      res.set('Cache-Control', 'no-store').json({
        ...shown(schedule),
        paused: live?.paused ?? null,
        nextRunTimes: live?.nextRunTimes.map((time) => time.toISOString()) ?? [],
        runsStarted: live?.runsStarted ?? null,
        recentRuns: (await deps.store.runsOf(schedule.id, 20)).map((run) => ({ runId: run.workflowId, startedAt: new Date(run.startedAt).toISOString() })),
      });
    } catch (error) {
      next(error);
    }
  });

  router.delete('/api/schedules/:id', async (req, res, next) => {
    const { principal } = extrasOf(req.auth);
    const schedule = await visibleTo(req, principal);
    if (!schedule) return notFound(req, res);
    try {
      await deps.service.delete(schedule, principal);
      res.json({ id: schedule.id, deleted: true });
    } catch (error) {
      deps.log.error({ err: error, scheduleId: schedule.id }, 'deleting a schedule failed');
      next(error);
    }
  });

  router.use('/api/schedules', jsonBodyErrors(deps.maxBodyBytes));
  router.use('/api/schedules', ((error, _req, res, next) => {
    if (res.headersSent) return next(error);
    res
      .status(503)
      .json({ error: 'temporarily_unavailable', message: 'Temporal or the database did not answer; the schedule may not have changed (GET /api/schedules shows what stands). Try again.' });
  }) as ErrorRequestHandler);
  return router;

  /** The caller's own schedule, or nothing: another user's id is answered like an unknown one. */
  async function visibleTo(req: Request, principal: Principal): Promise<ScheduleRecord | undefined> {
    return deps.store.findOwned(String(req.params.id), principal);
  }

  function notFound(req: Request, res: Response): void {
    res.status(404).json({ error: 'not_found', message: `No schedule "${String(req.params.id)}" of yours is known here.` });
  }
}

/** A schedule as its owner sees it: what runs, when, and until when its identity lasts. */
function shown(schedule: ScheduleRecord) {
  return {
    id: schedule.id,
    tool: schedule.tool,
    arguments: schedule.arguments,
    ...schedule.timing,
    note: schedule.note,
    createdAt: new Date(schedule.createdAt).toISOString(),
    // A day before the identity's own expiry: no run starts after it. Re-create the schedule to go on.
    endsAt: new Date(schedule.identityExpiresAt - 24 * 60 * 60 * 1000).toISOString(),
  };
}
