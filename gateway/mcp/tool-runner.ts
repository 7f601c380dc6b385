import type { Client } from '@temporalio/client';
import { connectors } from '../../apps/index.ts';
import { randomUUID } from 'node:crypto';
import type { GatewaySettings } from '../../core/config/gateway-settings.ts';
import { needsUserConnection, type BatonSettings } from '../../core/config/settings.ts';
import type { IdentityContext } from '../../core/identity/context.ts';
import type { IdentitySigner } from '../../core/identity/signer.ts';
import type { BatonStores } from '../../core/stores.ts';
import { requiredApps, type CallableDefinition } from '../../workflows/sdk/define.ts';
import { runStatusQuery, type PendingConsent } from '../../workflows/protocol.ts';
import { actorOf } from '../audit/actor.ts';
import type { Principal } from '../auth/principal.ts';
import { appsToConnect } from '../consent/preflight.ts';
import type { RunRegistry } from '../../core/runs/run-registry.ts';
import { awaitRunOutcome } from '../temporal/await-outcome.ts';
import { actingAs } from '../temporal/identity-propagation.ts';
import { startTool } from '../temporal/start-tool.ts';
import { argumentsDigest } from './canonical-json.ts';
import { parseHeaderOverride } from './header-override.ts';

/** One app the user must connect before the run can go on, and Baton's own link for it. */
export interface ConsentLink {
  app: string;
  appName: string;
  consentId: string;
  url: string;
  message: string;
}

export type CallOutcome =
  | { kind: 'completed'; runId: string; result: unknown }
  | { kind: 'failed'; runId: string; message: string }
  | { kind: 'needs_consent'; runId: string; links: ConsentLink[] }
  | { kind: 'still_running'; runId: string };

export interface ToolRunnerDependencies {
  client: Client;
  sign: IdentitySigner;
  stores: BatonStores;
  settings: BatonSettings;
  gateway: GatewaySettings;
  runs: RunRegistry;
  /** Aborted when the gateway shuts down: calls waiting on runs answer with a handle at once. */
  stopWaiting?: AbortSignal;
}

export function identityOf(principal: Principal, server: string | null = null): IdentityContext {
  return {
    subject: principal.subject,
    email: principal.email,
    displayName: principal.name,
    tenant: principal.tenant,
    authMethod: principal.authMethod,
    groups: principal.groups,
    roles: [],
    issuer: principal.issuer,
    inboundTokenRef: null,
    headerOverrideRef: null,
    client: principal.clientId,
    server,
  };
}

/**
 * Runs tools for MCP callers: starts a run as the caller (or re-attaches to the one a retry refers to),
 * waits for it event-driven within the configured budget, and says what happened — including which apps
 * the user must connect, found both by the paused run and by pre-flight.
 */
export class ToolRunner {
  readonly #deps: ToolRunnerDependencies;

  constructor(deps: ToolRunnerDependencies) {
    this.#deps = deps;
  }

  /** Service callers (API tokens) have no connections of their own: only tools needing none are theirs. */
  mayRun(principal: Principal, tool: CallableDefinition): boolean {
    if (principal.kind === 'user') return true;
    if (this.userApps(tool).length > 0) return false;
    // API tokens are never passed on or exchanged, so tools acting with the caller's own token are not theirs either.
    return principal.authMethod !== 'api_token' || !this.usesCallerToken(tool);
  }

  /** Whether a tool's apps act with the caller's own sign-in token (passthrough, token exchange, a caller_token header). */
  usesCallerToken(tool: CallableDefinition): boolean {
    const { settings } = this.#deps;
    return requiredApps(tool).some((app) => {
      const mode = (settings.config.tools[tool.name]?.credentials[app] ?? settings.apps.get(app)?.credential)?.mode;
      return mode === 'passthrough' || mode === 'token_exchange' || settings.apps.get(app)?.headers.some((header) => header.from === 'caller_token');
    });
  }

  /** The apps (display names) a tool calls with each caller's own connection. */
  userApps(tool: CallableDefinition): string[] {
    return requiredApps(tool)
      .filter((app) => needsUserConnection(this.#deps.settings.apps.get(app), this.#deps.settings, tool.name))
      .map((app) => connectors.get(app)?.displayName ?? app);
  }

  /**
   * A tools/call: a repeat of a call the user was told to come back for re-attaches to its run; else a
   * new run. `options.fresh` always starts a new run (the HTTP API's POST); `options.waitMs` waits less
   * than the configured budget (never more).
   */
  async call(
    principal: Principal,
    tool: CallableDefinition,
    input: unknown,
    inbound: { token: string; headerOverride: string | null; server: string },
    options: { fresh?: boolean; waitMs?: number } = {},
  ): Promise<CallOutcome> {
    const overrides = parseHeaderOverride(inbound.headerOverride, {
      allowedApps: new Set(requiredApps(tool).filter((app) => this.#deps.settings.apps.get(app)?.allowHeaderOverride)),
      restrictedHeaders: this.#deps.settings.config.restrictedHeaders,
    });
    const digest = argumentsDigest(input);
    const notBefore = Date.now() - this.#deps.gateway.requestStateTtlSeconds * 1000;
    const waitMs = Math.min(options.waitMs ?? this.#deps.gateway.callWaitMs, this.#deps.gateway.callWaitMs);
    const waiting = options.fresh ? undefined : await this.#deps.runs.findHandedBack(principal, tool.name, digest, notBefore);
    if (waiting) return this.#follow(principal, tool, waiting.workflowId, waitMs);
    const identity = {
      ...identityOf(principal, inbound.server),
      inboundTokenRef: await this.#keepCallerToken(principal, tool, inbound.token),
      headerOverrideRef: await this.#keepOverride(principal, overrides),
    };
    const handle = await startTool(this.#deps.client, this.#deps.sign, { tool, input, identity, taskQueue: this.#deps.settings.temporal.taskQueue });
    await this.#deps.runs.recordStarted({ workflowId: handle.workflowId, tenant: principal.tenant, subject: principal.subject, tool: tool.name, argumentsDigest: digest });
    return this.#follow(principal, tool, handle.workflowId, waitMs);
  }

  /**
   * A tool whose apps act with the caller's own token (passthrough, token exchange) gets it through the
   * vault: the run carries only the reference. Nothing is kept for other tools, or for API tokens.
   */
  async #keepCallerToken(principal: Principal, tool: CallableDefinition, token: string): Promise<string | null> {
    if (!this.usesCallerToken(tool) || principal.authMethod === 'api_token' || token === '') return null;
    const { stores } = this.#deps;
    const ref = `inbound/${randomUUID()}`;
    // An unverified passthrough token has no expiry Baton knows of: keep it no longer than a run is resumable.
    const expiresAt = principal.expiresAt !== null ? principal.expiresAt * 1000 : Date.now() + this.#deps.gateway.requestStateTtlSeconds * 1000;
    await stores.vault.putInboundToken(ref, principal, token, expiresAt);
    return `vault:${ref}`;
  }

  /** The client's per-call headers are secrets too: into the vault for this run, the reference into the identity. */
  async #keepOverride(principal: Principal, overrides: Record<string, Record<string, string>> | undefined): Promise<string | null> {
    if (!overrides) return null;
    const ref = `override/${randomUUID()}`;
    await this.#deps.stores.vault.putInboundToken(ref, principal, JSON.stringify(overrides), Date.now() + this.#deps.gateway.requestStateTtlSeconds * 1000);
    return `vault:${ref}`;
  }

  /** Re-attaches to a run by id (requestState, get_run_result); only the caller's own runs are found. */
  async attach(principal: Principal, runId: string, tools: ReadonlyMap<string, CallableDefinition>): Promise<CallOutcome | undefined> {
    const run = await this.#deps.runs.findOwned(runId, principal);
    const tool = run && tools.get(run.tool);
    if (!run || !tool) return undefined;
    return this.#follow(principal, tool, run.workflowId);
  }

  async #follow(principal: Principal, tool: CallableDefinition, runId: string, waitMs = this.#deps.gateway.callWaitMs): Promise<CallOutcome> {
    const { client, sign, runs } = this.#deps;
    const token = await sign(identityOf(principal), { rootWorkflowId: runId, tool: tool.name });
    const outcome = await awaitRunOutcome(client, runId, token, await this.#alreadyAnswered(runId, token), waitMs, this.#deps.stopWaiting);
    switch (outcome.state) {
      case 'completed':
        await runs.markDelivered(runId);
        return { kind: 'completed', runId, result: outcome.result };
      case 'failed':
        await runs.markDelivered(runId);
        return { kind: 'failed', runId, message: outcome.error.message };
      case 'paused':
        await runs.markHandedBack(runId);
        return { kind: 'needs_consent', runId, links: await this.#consentLinks(principal, tool, runId, outcome.pending) };
      default:
        await runs.markHandedBack(runId);
        return { kind: 'still_running', runId };
    }
  }

  /**
   * Consents the run still lists but the user has already answered (the run has not caught up with
   * the signal yet): the wait must look past them rather than ask the user again.
   */
  async #alreadyAnswered(runId: string, token: string): Promise<string[]> {
    const handle = this.#deps.client.workflow.getHandle(runId);
    try {
      const status = await actingAs(token, () => handle.query(runStatusQuery));
      const ids = status.pending.map((p) => p.consentId);
      const requests = await Promise.all(ids.map((id) => this.#deps.stores.consents.get(id)));
      return ids.filter((_, index) => requests[index]?.status !== 'pending');
    } catch {
      return []; // a closed run answers from its result; nothing to look past
    }
  }

  /** One link per app: the run's own consent requests first, then pre-flight requests for apps it will need later. */
  async #consentLinks(principal: Principal, tool: CallableDefinition, runId: string, pending: PendingConsent[]): Promise<ConsentLink[]> {
    const { stores, settings } = this.#deps;
    const links = new Map<string, ConsentLink>();
    const link = (consentId: string, app: string, appName: string, message: string) => ({ app, appName, consentId, url: `${settings.publicUrl}/connect/${consentId}`, message });
    for (const consent of pending) {
      if (!links.has(consent.app)) links.set(consent.app, link(consent.consentId, consent.app, consent.appName, consent.message));
    }
    for (const missing of await appsToConnect(tool, principal, settings, stores.vault)) {
      if (links.has(missing.app)) continue;
      const open = (await stores.consents.pendingFor(principal.tenant, principal.subject, missing.app)).find((request) => request.rootWorkflowId === runId);
      const consentId = open?.id ?? randomUUID();
      if (!open) {
        await stores.consents.record({
          id: consentId,
          tenant: principal.tenant,
          subject: principal.subject,
          app: missing.app,
          scopes: missing.scopes,
          reason: missing.reason,
          rootWorkflowId: runId,
          waitingWorkflowId: runId,
        });
        await stores.audit.record({
          kind: 'consent.requested',
          outcome: 'pending',
          actor: actorOf(principal),
          client: principal.clientId,
          tool: tool.name,
          rootRunId: runId,
          runPath: [runId],
          app: missing.app,
          message: `needs ${missing.app} later in the run (pre-flight)`,
          detail: { consentId },
        });
      }
      links.set(missing.app, link(consentId, missing.app, missing.appName, `${tool.name} will also need your ${missing.appName} account.`));
    }
    return [...links.values()];
  }
}
