import type { AuditActor } from '../../core/audit/audit-event.ts';
import type { Principal } from '../auth/principal.ts';

/** The person behind an authenticated request, as the audit trail names them. */
export function actorOf(principal: Principal): AuditActor {
  return { tenant: principal.tenant, subject: principal.subject, email: principal.email, name: principal.name, authMethod: principal.authMethod };
}

/** A user signed in on Baton's own pages (connections, runs, audit). */
export function browserActor(user: { tenant: string; subject: string; email: string | null; name: string | null }): AuditActor {
  return { tenant: user.tenant, subject: user.subject, email: user.email, name: user.name, authMethod: 'browser' };
}

/** An operator running `baton …` on the server: trusted by access to the database, named by the OS user. */
export function operatorActor(tenant: string): AuditActor {
  const user = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  return { tenant, subject: `operator:${user}`, email: null, name: null, authMethod: 'cli' };
}
