import { Counter, Histogram, type Registry } from 'prom-client';
import type { AuditRecord } from '../audit/audit-event.ts';
import type { AuditLog } from '../audit/audit-log.ts';

/** Seconds, from tens of milliseconds (an app call) to an hour (a person finding the consent link). */
const latencyBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const consentWaitBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * Prometheus metrics derived from the audit records this process writes: everything the trail counts
 * (tool calls, app calls, consent, refreshes, denials) is counted once, in one place. Labels carry tool,
 * app and outcome names only — never a user id, so series stay few and metrics stay free of personal data.
 */
export function countAuditRecords(registry: Registry, audit: AuditLog): void {
  const registers = [registry];
  const toolCalls = new Counter({ name: 'baton_tool_calls_total', help: 'Tool runs that ended, by tool and outcome (completed, failed, cancelled).', labelNames: ['tool', 'outcome'], registers });
  const toolSeconds = new Histogram({
    name: 'baton_tool_call_duration_seconds',
    help: 'Duration of tool runs, including any wait for consent.',
    labelNames: ['tool', 'outcome'],
    buckets: latencyBuckets,
    registers,
  });
  const appCalls = new Counter({ name: 'baton_app_calls_total', help: 'Calls to apps, by app, credential owner and outcome.', labelNames: ['app', 'credential', 'outcome'], registers });
  const appSeconds = new Histogram({
    name: 'baton_app_call_duration_seconds',
    help: 'Duration of app calls, credential resolution included.',
    labelNames: ['app'],
    buckets: latencyBuckets,
    registers,
  });
  const prompts = new Counter({ name: 'baton_consent_prompts_total', help: 'Runs that paused to ask a user to connect an app.', labelNames: ['app'], registers });
  const completions = new Counter({
    name: 'baton_consent_completions_total',
    help: 'Consent requests that ended, by decision (granted, denied, expired, cancelled).',
    labelNames: ['app', 'decision'],
    registers,
  });
  const waiting = new Histogram({ name: 'baton_consent_wait_seconds', help: 'Time from the consent prompt to the decision.', labelNames: ['app', 'decision'], buckets: consentWaitBuckets, registers });
  const refreshes = new Counter({ name: 'baton_token_refreshes_total', help: 'Refreshes of user tokens, by app and outcome (ok, rejected, failed).', labelNames: ['app', 'outcome'], registers });
  const denied = new Counter({ name: 'baton_denied_total', help: 'Requests refused by an access decision, by tool (`none` for the admin, audit and account APIs).', labelNames: ['tool'], registers });
  const connections = new Counter({ name: 'baton_connection_changes_total', help: 'Connections made, marked for re-consent or revoked, by app.', labelNames: ['app', 'change'], registers });

  const seconds = (record: AuditRecord) => (record.durationMs ?? 0) / 1000;
  audit.onRecord((record) => {
    const app = record.app ?? 'none';
    switch (record.kind) {
      case 'tool_call.finished':
        toolCalls.inc({ tool: record.tool ?? 'unknown', outcome: record.outcome });
        toolSeconds.observe({ tool: record.tool ?? 'unknown', outcome: record.outcome }, seconds(record));
        break;
      case 'app_call':
        appCalls.inc({ app, credential: record.credential?.owner ?? 'none', outcome: record.outcome });
        appSeconds.observe({ app }, seconds(record));
        break;
      case 'consent.requested':
        prompts.inc({ app });
        break;
      case 'consent.granted':
      case 'consent.denied':
      case 'consent.expired':
      case 'consent.cancelled':
        completions.inc({ app, decision: record.outcome });
        if (record.durationMs !== null) waiting.observe({ app, decision: record.outcome }, seconds(record));
        break;
      case 'connection.refreshed':
      case 'connection.refresh_failed':
        refreshes.inc({ app, outcome: record.outcome });
        break;
      case 'connection.connected':
      case 'connection.needs_reconsent':
      case 'connection.revoked':
        connections.inc({ app, change: record.kind.slice('connection.'.length) });
        break;
      case 'access.denied':
        denied.inc({ tool: record.tool ?? 'none' });
        break;
      default:
        break;
    }
  });
}
