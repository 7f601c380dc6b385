import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { disabledMessage, type DisabledUsers } from '../../core/access/disabled-users.ts';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import { actorOf } from '../audit/actor.ts';
import { extrasOf } from '../mcp/mcp-server.ts';

/**
 * Runs `authenticate`, then refuses a disabled user with 403 and an `access.denied` audit record. Wraps the
 * MCP endpoints' authentication (bearer and passthrough alike) and the signed-in APIs'.
 */
export function refuseDisabledUsers(authenticate: RequestHandler, deps: { disabledUsers: DisabledUsers; audit: AuditLog }): RequestHandler {
  const refuseIfDisabled = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const { principal } = extrasOf(req.auth);
    const disabled = await deps.disabledUsers.find(principal.tenant, principal.subject);
    if (!disabled) return next();
    const message = disabledMessage(disabled);
    await deps.audit.record({
      kind: 'access.denied',
      outcome: 'denied',
      actor: actorOf(principal),
      client: principal.clientId,
      action: `${req.method} ${req.baseUrl}${req.path}`,
      message,
      detail: { reason: 'user_disabled', disabledBy: disabled.disabledBy },
    });
    res.status(403).json({ error: 'access_denied', error_description: message });
  };
  // `authenticate` calls back once it is done (or answers the request itself and never does). What it
  // returns (a promise, when it is async) goes to express; the check after it hands its own failure to `next`.
  return (req, res, next) =>
    authenticate(req, res, (error?: unknown) => {
      if (error !== undefined) return next(error);
      refuseIfDisabled(req, res, next).catch(next);
    });
}
