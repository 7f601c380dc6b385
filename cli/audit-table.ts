import type { AuditRecord } from '../core/audit/audit-event.ts';

const columns = ['TIME', 'PERSON', 'EVENT', 'TOOL', 'APP ACTION', 'CREDENTIAL', 'OUTCOME', 'STATUS', 'MS', 'RUN'] as const;

/** Whose credential, in a few characters: `alice@github-login`, `service:svc-baton`, or `-`. */
function credentialCell(record: AuditRecord): string {
  const credential = record.credential;
  if (!credential || credential.owner === 'none') return '-';
  return credential.owner === 'user' ? `own:${credential.externalAccount ?? '?'}` : `service:${credential.externalAccount ?? '?'}`;
}

/** Audit records as a plain text table, oldest at the top like a log. */
export function formatAuditTable(records: readonly AuditRecord[]): string {
  if (records.length === 0) return 'No audit records match.';
  const rows = [...records]
    .reverse()
    .map((record) => [
      new Date(record.at).toISOString().replace(/\.\d+Z$/, 'Z'),
      record.actor.subject,
      record.kind,
      record.tool ?? '-',
      [record.app, record.action].filter(Boolean).join(' ') || '-',
      credentialCell(record),
      record.outcome,
      record.upstreamStatus === null ? '-' : String(record.upstreamStatus),
      record.durationMs === null ? '-' : String(record.durationMs),
      record.rootRunId ?? '-',
    ]);
  const widths = columns.map((title, index) => Math.max(title.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]!))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map(line)].join('\n');
}
