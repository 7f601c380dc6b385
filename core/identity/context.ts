/**
 * Who is calling, as the gateway established it. Pure data: this file is imported by workflow code,
 * so it must not import anything with side effects.
 */
export interface IdentityContext {
  /** Stable user id from the identity provider (`sub`), or the API token's service identity. */
  subject: string;
  email: string | null;
  displayName: string | null;
  tenant: string;
  /**
   * `oauth`: a person signed in through the identity provider. `api_token`: a service caller.
   * `passthrough`: a caller of a passthrough MCP server (identified by its JWT when validation is on, else `anonymous`).
   */
  authMethod: 'oauth' | 'api_token' | 'passthrough';
  groups: string[];
  roles: string[];
  /** The identity provider that vouched for the caller. */
  issuer: string;
  /** Opaque vault reference to the caller's inbound token, for modes that need it; never the token. */
  inboundTokenRef: string | null;
  /** Opaque vault reference to the headers the client supplied for this call's apps (per-call override). */
  headerOverrideRef: string | null;
  /** The OAuth client the caller used (`client_id` / `azp`), for the audit trail. */
  client: string | null;
  /** The MCP server (virtual server name) the call came through, for the audit trail. */
  server: string | null;
}

/**
 * Ties a signed identity to one run, so it cannot be replayed onto another workflow. A schedule's
 * identity (`schedule` set) is tied instead to the runs that schedule itself starts: `rootWorkflowId` is
 * then the schedule action's workflow id, to which Temporal appends each run's start time, and the
 * worker accepts it only on a run Temporal records as started by that schedule (activities/scheduled-runs.ts).
 * Once verified, the worker hands on the binding with the run's own root workflow id.
 */
export interface RunBinding {
  rootWorkflowId: string;
  tool: string;
  /** The Baton schedule whose runs this identity may act in; absent for a run started directly. */
  schedule?: string;
}

export interface VerifiedIdentity {
  identity: IdentityContext;
  binding: RunBinding;
}

/**
 * The issuer of a passthrough caller nobody verified (`anonymous`): such a caller has no personal
 * connections, and an app receives its token only if it lists this value among its trusted issuers.
 */
export const UNVERIFIED_ISSUER = 'unverified';

/** Temporal header names Baton's interceptors use. */
export const IDENTITY_HEADER = 'baton-identity';
export const RUN_PATH_HEADER = 'baton-run-path';
/** A signal's own signature (core/identity/workflow-messages.ts). */
export const MESSAGE_HEADER = 'baton-message';
