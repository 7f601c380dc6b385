/**
 * What Baton writes to its audit trail. Every event kind is one row shape, so one query answers "what did
 * alice do with GitHub in the last hour" across tool calls, app calls, consent and admin changes.
 */
export type AuditKind =
  | 'tool_call.started'
  | 'tool_call.finished'
  | 'tool_call.cancel_requested'
  | 'app_call'
  | 'consent.requested'
  | 'consent.granted'
  | 'consent.denied'
  | 'consent.expired'
  | 'consent.cancelled'
  | 'connection.connected'
  | 'connection.refreshed'
  | 'connection.refresh_failed'
  | 'connection.needs_reconsent'
  | 'connection.revoked'
  | 'access.denied'
  | 'admin.change'
  | 'schedule.created'
  | 'schedule.deleted';

export const auditKinds: readonly AuditKind[] = [
  'tool_call.started',
  'tool_call.finished',
  'tool_call.cancel_requested',
  'app_call',
  'consent.requested',
  'consent.granted',
  'consent.denied',
  'consent.expired',
  'consent.cancelled',
  'connection.connected',
  'connection.refreshed',
  'connection.refresh_failed',
  'connection.needs_reconsent',
  'connection.revoked',
  'access.denied',
  'admin.change',
  'schedule.created',
  'schedule.deleted',
];

/** The person an event is about (the caller, the admin making a change). */
export interface AuditActor {
  tenant: string;
  subject: string;
  email: string | null;
  name: string | null;
  /** oauth, api_token, passthrough, browser (a signed-in page), cli (an operator on the server). */
  authMethod: string;
}

/** Whose credential an app call presented, and why the configuration chose it. */
export interface AuditCredential {
  mode: string;
  /** `user`: the caller's own connection; `service_account`: the organisation's; `none`: nothing was presented. */
  owner: 'user' | 'service_account' | 'none';
  /** The account at the app (e.g. the GitHub login) the credential belongs to, when known. */
  externalAccount: string | null;
  /** From the configuration (a service account's `reason`), or how the mode was chosen. */
  reason: string | null;
}

export interface AuditEventInput {
  kind: AuditKind;
  /** ok, failed, denied, started, completed, cancelled, connection_required, … — what happened. */
  outcome: string;
  actor: AuditActor;
  /** The OAuth client (client_id / azp) the caller used. */
  client?: string | null;
  /** The MCP server (virtual server name) the call came through. */
  server?: string | null;
  tool?: string | null;
  rootRunId?: string | null;
  /** Workflow ids from the root run down to the one that made the call. */
  runPath?: string[];
  app?: string | null;
  /** The app's action (app calls), or the admin change made (`access.grant`, `api_token.create`, …). */
  action?: string | null;
  credential?: AuditCredential | null;
  upstreamStatus?: number | null;
  durationMs?: number | null;
  /** What the call created or changed at the app (`issue:OPS-12`, `comment:981`, `message:C1/1700.1`). */
  objectRef?: string | null;
  message?: string | null;
  traceId?: string | null;
  /** Anything else worth keeping (the target of an admin change, a consent id). Never a secret. */
  detail?: Record<string, string | number | boolean | null>;
}

export interface AuditRecord extends Required<Omit<AuditEventInput, 'credential'>> {
  /** The global order records were inserted in (across every writer). */
  seq: number;
  /** The chain this record belongs to (one per writer process; `legacy` for records from before chains). */
  chain: string;
  /** Its position in that chain, from 1. */
  chainSeq: number;
  at: number;
  credential: AuditCredential | null;
  prevHash: string;
  hash: string;
}
