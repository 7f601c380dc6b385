import { z } from 'zod';
import { auditKinds, type AuditKind } from './audit-event.ts';
import type { AuditFilter } from './audit-log.ts';

/** A point in time as people type it: `1h` / `30m` / `7d` ago, epoch milliseconds, or an ISO 8601 date. */
export function parseTime(text: string, now = Date.now()): number {
  const ago = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (ago) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[ago[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(ago[1]) * unit;
  }
  if (/^\d{10,}$/.test(text.trim())) return Number(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new AuditFilterError(`"${text}" is not a time: use a duration ago (30m, 1h, 7d), epoch milliseconds, or an ISO date like 2026-11-22T08:00:00Z.`);
  return parsed;
}

export class AuditFilterError extends Error {
  override name = 'AuditFilterError';
}

const text = z.string().trim().min(1).max(300);

/** The query parameters the audit API, the CLI and the Audit page accept; unknown ones are refused by name. */
const filterParameters = z
  .object({
    user: text.optional(),
    tenant: text.optional(),
    app: text.optional(),
    tool: text.optional(),
    run: text.optional(),
    kind: z.enum(auditKinds as [AuditKind, ...AuditKind[]]).optional(),
    outcome: text.optional(),
    since: text.optional(),
    until: text.optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();

/** Parses filter parameters (from a query string) into an AuditFilter, with a message that says what to fix. */
export function parseAuditFilter(query: Record<string, unknown>, now = Date.now()): AuditFilter {
  // Empty form fields mean "any".
  const present = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== '' && value !== undefined));
  const parsed = filterParameters.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : 'query');
    throw new AuditFilterError(`Bad audit filter ${where}: ${issue.message}. Filters: user, tenant, app, tool, run, kind (${auditKinds.join(', ')}), outcome, since, until, before, limit.`);
  }
  const p = parsed.data;
  return {
    subject: p.user,
    tenant: p.tenant,
    app: p.app,
    tool: p.tool,
    rootRunId: p.run,
    kind: p.kind,
    outcome: p.outcome,
    since: p.since === undefined ? undefined : parseTime(p.since, now),
    until: p.until === undefined ? undefined : parseTime(p.until, now),
    beforeSeq: p.before,
    limit: p.limit,
  };
}
