import type { Request, RequestHandler, Response } from 'express';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { AccessPolicy, Role } from '../access/access-policy.ts';
import { actorOf } from '../audit/actor.ts';
import { extrasOf } from '../mcp/mcp-server.ts';

/**
 * The admin API's role check: the signed-in user's role (from the configuration file) must be one of
 * `roles`; API tokens have none. A refusal is a 403 that names the role needed, and an audit record.
 */
export function roleGate(policy: AccessPolicy, audit: AuditLog) {
  const check = roleCheck(policy, audit);
  return (roles: readonly Role[], what: string): RequestHandler =>
    async (req, res, next) => {
      if (await check(roles, what, req, res)) next();
    };
}

/** The same check inside a handler: resolves to true when the role allows, else has answered 403 (and audited). */
export function roleCheck(policy: AccessPolicy, audit: AuditLog) {
  return async (roles: readonly Role[], what: string, req: Request, res: Response): Promise<boolean> => {
    const { principal } = extrasOf(req.auth);
    const role = principal.authMethod === 'oauth' ? policy.roleOf(principal) : undefined;
    if (role && roles.includes(role)) return true;
    const needs = `${what} needs the ${roles.join(' or ')} role`;
    await audit.record({ kind: 'access.denied', outcome: 'denied', actor: actorOf(principal), client: principal.clientId, action: `${req.method} ${req.originalUrl.split('?')[0]}`, message: needs });
    res.status(403).json({ error: 'forbidden', message: `${needs}; ${principal.subject} has ${role ? `the ${role} role` : 'no role'} (roles are set in the configuration file).` });
    return false;
  };
}
