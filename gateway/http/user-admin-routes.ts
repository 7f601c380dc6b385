import express, { type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { AccessPolicy, Role } from '../access/access-policy.ts';
import type { DisabledUsers } from '../../core/access/disabled-users.ts';
import type { UserDisabling } from '../access/user-disabling.ts';
import { actorOf } from '../audit/actor.ts';
import { extrasOf } from '../mcp/mcp-server.ts';
import { roleGate } from './role-gate.ts';

export interface UserAdminDependencies {
  authenticate: RequestHandler;
  policy: AccessPolicy;
  audit: AuditLog;
  disabledUsers: DisabledUsers;
  disabling: UserDisabling;
}

const canChange: readonly Role[] = ['owner', 'admin'];
const userBody = z.object({ tenant: z.string().min(1).max(200).optional(), reason: z.string().max(500).optional() }).strict();

/**
 * The admin API's users part: `POST /admin/users/:subject/disable` (refused from the next request on,
 * in-flight runs cancelled), `POST /admin/users/:subject/enable`, `GET /admin/users/disabled`. Owners and
 * admins only, checked like the rest of the admin API (roles from the configuration file).
 */
export function userAdminRoutes(deps: UserAdminDependencies): Router {
  const router = express.Router();
  const allow = roleGate(deps.policy, deps.audit);
  const badRequest = (res: Response, message: string) => void res.status(400).json({ error: 'invalid_request', message });
  /** The user a request is about: the subject in the path, in the body's tenant or else the admin's own. */
  const target = (req: express.Request, res: Response): { tenant: string; subject: string; reason: string | null } | undefined => {
    const body = userBody.safeParse(req.body ?? {});
    if (!body.success) return void badRequest(res, 'Send no body, or {"tenant"?: "<tenant>", "reason"?: "<why>"}.');
    const subject = String(req.params.subject);
    if (!subject) return void badRequest(res, 'Name the user in the path: /admin/users/<subject>/disable.');
    const { principal } = extrasOf(req.auth);
    const tenant = body.data.tenant ?? principal.tenant;
    // An owner or admin acts in their own tenant; another tenant's users need a global role.
    if (tenant !== principal.tenant && !deps.policy.isGlobal(principal)) {
      res.status(403).json({
        error: 'forbidden',
        message: `Your role applies in tenant ${principal.tenant} only; acting on tenant ${tenant}'s users needs a global role (roles.${principal.subject}: { role, global: true }).`,
      });
      return undefined;
    }
    return { tenant, subject, reason: body.data.reason ?? null };
  };

  router.use('/admin/users', deps.authenticate, express.json({ limit: '16kb' }));

  router.get('/admin/users/disabled', allow(canChange, 'Listing disabled users'), async (req, res) => {
    const { principal } = extrasOf(req.auth);
    res.json({ disabledUsers: await deps.disabledUsers.list(deps.policy.isGlobal(principal) ? undefined : principal.tenant) });
  });

  router.post('/admin/users/:subject/disable', allow(canChange, 'Disabling users'), async (req, res, next) => {
    const user = target(req, res);
    if (!user) return;
    const { principal } = extrasOf(req.auth);
    if (user.tenant === principal.tenant && user.subject === principal.subject) {
      return badRequest(res, 'You cannot disable yourself; ask another owner or admin (or an operator: baton users disable).');
    }
    try {
      const result = await deps.disabling.disable({ tenant: user.tenant, subject: user.subject }, actorOf(principal), user.reason);
      res.json({
        tenant: user.tenant,
        subject: user.subject,
        disabled: true,
        alreadyDisabled: !result.newlyDisabled,
        cancelledRuns: result.cancelledRuns,
        failedRuns: result.failedRuns,
      });
    } catch (error) {
      next(error);
    }
  });

  router.post('/admin/users/:subject/enable', allow(canChange, 'Enabling users'), async (req, res) => {
    const user = target(req, res);
    if (!user) return;
    if (!(await deps.disabling.enable({ tenant: user.tenant, subject: user.subject }, actorOf(extrasOf(req.auth).principal)))) {
      res.status(404).json({ error: 'not_found', message: `${user.subject} (tenant ${user.tenant}) is not disabled.` });
      return;
    }
    res.json({ tenant: user.tenant, subject: user.subject, disabled: false });
  });

  return router;
}
