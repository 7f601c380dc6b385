import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { GatewaySettings } from '../../core/config/gateway-settings.ts';
import { appDisplayName, needsUserConnection, type BatonSettings } from '../../core/config/settings.ts';
import type { IdentityContext } from '../../core/identity/context.ts';
import type { IdentitySigner } from '../../core/identity/signer.ts';
import type { BatonStores } from '../../core/stores.ts';
import { requiredApps, type CallableDefinition } from '../../workflows/sdk/define.ts';
import { inputAnswerSignal, runStatusQuery, type InputAnswer, type PendingConsent, type PendingInput, type RunStatus } from '../../workflows/protocol.ts';
import type { ConsentRequest } from '../../core/consent/consent-store.ts';
import { actorOf } from '../audit/actor.ts';
import type { Principal } from '../auth/principal.ts';
import { appsToConnect } from '../consent/preflight.ts';
import { decideRequest } from '../consent/resume-runs.ts';
import { UpdateBudget } from '../temporal/update-budget.ts';
import type { RegisteredRun, RunRegistry } from '../../core/runs/run-registry.ts';
import { awaitRunOutcome, statusByQuery } from '../temporal/await-outcome.ts';
import { actingAs } from '../temporal/identity-propagation.ts';
import { startTool, startToolAwaitingOutcome } from '../temporal/start-tool.ts';
import { ANSWERED_BY_A_NEW_CONNECTION } from '../../activities/contract.ts';
import { argumentsDigest } from './canonical-json.ts';
import { parseHeaderOverride } from './header-override.ts';
import { isUpstreamTool } from '../upstreams/upstream-tools.ts';

/** One app the user must connect before the run can go on, and Baton's own link for it. */
export interface ConsentLink {
  app: string;
  appName: string;
  consentId: string;
  url: string;
  message: string;
}

/** The user's answers to one upstream question set, addressed to the workflow that asked. */
export type InputAnswerTo = InputAnswer & { waitingWorkflowId: string };

/** Apps a call already asked the user to connect, each with the consent id of the link it gave. */
export type AskedApps = Record<string, string>;

export type CallOutcome =
  /** `toolResult`: the result is an upstream MCP tool's own answer, to pass on unchanged. */
  | { kind: 'completed'; runId: string; result: unknown; toolResult: boolean }
  | { kind: 'failed'; runId: string; message: string }
  | { kind: 'needs_consent'; runId: string; links: ConsentLink[] }
  /** An upstream MCP server asks the user questions (form elicitations) before it can finish a call of the run. */
  | { kind: 'needs_input'; runId: string; inputs: PendingInput[] }
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
  readonly #updates: UpdateBudget;

  constructor(deps: ToolRunnerDependencies) {
    this.#deps = deps;
    this.#updates = new UpdateBudget(deps.gateway.runWaitsPerMinute);
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
      .map((app) => appDisplayName(this.#deps.settings, app));
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
    const overrides = this.#overridesFor(tool, inbound.headerOverride);
    const digest = argumentsDigest(input);
    const notBefore = Date.now() - this.#deps.gateway.requestStateTtlSeconds * 1000;
    const waitMs = Math.min(options.waitMs ?? this.#deps.gateway.callWaitMs, this.#deps.gateway.callWaitMs);
    const waiting = options.fresh ? undefined : await this.#deps.runs.findHandedBack(principal, tool.name, digest, notBefore);
    if (waiting) return this.#follow(principal, tool, waiting.workflowId, waitMs);
    const identity = await this.#runIdentity(principal, tool, inbound, overrides);
    const started = await startToolAwaitingOutcome(this.#deps.client, this.#deps.sign, { tool, input, identity, taskQueue: this.#deps.settings.temporal.taskQueue });
    await this.#deps.runs.recordStarted({ workflowId: started.workflowId, tenant: principal.tenant, subject: principal.subject, tool: tool.name, argumentsDigest: digest });
    return this.#follow(principal, tool, started.workflowId, waitMs, {}, { justStarted: started.outcome });
  }

  /**
   * Starts a run as the caller and records it as theirs, without waiting on it: an MCP task's run, which the
   * client follows with tasks/get. Resolves once the run exists in Temporal and in the run registry.
   */
  async start(principal: Principal, tool: CallableDefinition, input: unknown, inbound: { token: string; headerOverride: string | null; server: string }): Promise<RegisteredRun> {
    const overrides = this.#overridesFor(tool, inbound.headerOverride);
    const identity = await this.#runIdentity(principal, tool, inbound, overrides);
    const handle = await startTool(this.#deps.client, this.#deps.sign, { tool, input, identity, taskQueue: this.#deps.settings.temporal.taskQueue });
    const run = { workflowId: handle.workflowId, tenant: principal.tenant, subject: principal.subject, tool: tool.name, argumentsDigest: argumentsDigest(input) };
    await this.#deps.runs.recordStarted(run);
    return (await this.#deps.runs.findOwned(run.workflowId, principal))!;
  }

  /** The client's per-call headers for the tool's apps that allow them (refused with a clear error otherwise). */
  #overridesFor(tool: CallableDefinition, headerOverride: string | null): Record<string, Record<string, string>> | undefined {
    return parseHeaderOverride(headerOverride, {
      allowedApps: new Set(requiredApps(tool).filter((app) => this.#deps.settings.apps.get(app)?.allowHeaderOverride)),
      restrictedHeaders: this.#deps.settings.config.restrictedHeaders,
    });
  }

  /** The identity a new run carries: the caller, with references (never the values) to what the vault keeps for it. */
  async #runIdentity(
    principal: Principal,
    tool: CallableDefinition,
    inbound: { token: string; server: string },
    overrides: Record<string, Record<string, string>> | undefined,
  ): Promise<IdentityContext> {
    return {
      ...identityOf(principal, inbound.server),
      inboundTokenRef: await this.#keepCallerToken(principal, tool, inbound.token),
      headerOverrideRef: await this.#keepOverride(principal, overrides),
    };
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

  /**
   * Re-attaches to a run by id (requestState, get_run_result); only the caller's own runs are found.
   * `options.asked`: the apps this same call already asked the user to connect (app → consent id of the
   * link given), which the wait looks past while those links are still open instead of asking again.
   */
  async attach(
    principal: Principal,
    runId: string,
    findTool: (name: string) => Promise<CallableDefinition | undefined>,
    options: { asked?: AskedApps; answers?: InputAnswerTo[] } = {},
  ): Promise<CallOutcome | undefined> {
    const run = await this.#deps.runs.findOwned(runId, principal);
    const tool = run && (await findTool(run.tool));
    if (!run || !tool) return undefined;
    const answers = options.answers ?? [];
    if (answers.length) await this.answerInputs(principal, run.workflowId, tool, answers);
    return this.#follow(principal, tool, run.workflowId, this.#deps.gateway.callWaitMs, options.asked, { answered: answers.map((answer) => answer.inputId) });
  }

  /**
   * What one of the caller's runs waits for right now (an MCP task's status): answered by query at once, with
   * the consent links and questions to show, and nothing recorded as handed back. Undefined for a run that is
   * not the caller's (or whose tool they may no longer run).
   */
  async peek(principal: Principal, run: RegisteredRun, findTool: (name: string) => Promise<CallableDefinition | undefined>): Promise<CallOutcome | undefined> {
    const tool = await findTool(run.tool);
    if (!tool || run.tenant !== principal.tenant || run.subject !== principal.subject) return undefined;
    return this.#follow(principal, tool, run.workflowId, 0, {}, { peek: true });
  }

  /**
   * Hands the user's answers (or why there will be none) to the workflows of the caller's run that asked.
   * The waiting workflow ids come from state Baton sealed itself, and must lie in this run's tree.
   */
  async answerInputs(principal: Principal, runId: string, tool: CallableDefinition, answers: InputAnswerTo[]): Promise<void> {
    const token = await this.#deps.sign(identityOf(principal), { rootWorkflowId: runId, tool: tool.name });
    for (const { waitingWorkflowId, ...answer } of answers) {
      if (!inRunTree(runId, { waitingWorkflowId, inputId: answer.inputId })) continue;
      try {
        await actingAs(token, () => this.#deps.client.workflow.getHandle(waitingWorkflowId).signal(inputAnswerSignal, answer));
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error; // the run ended meanwhile
      }
    }
  }

  /**
   * Waits for the run (event-driven, within `waitMs`) until it completes, fails, or pauses on a consent
   * the user must be asked for now. Consents the user already answered (the run has not taken the
   * signal yet) and consents for apps whose link this call already gave and the user has not finished
   * are not that: the wait goes on past them (re-reading the run's consents whenever it reports new
   * ones). A wait that ends with only those left answers "still running" (a handle to come back with),
   * never the same prompt again.
   */
  async #follow(
    principal: Principal,
    tool: CallableDefinition,
    runId: string,
    waitMs: number,
    asked: AskedApps = {},
    /**
     * `justStarted`: the first wait of a run this call started with it (update-with-start). `answered`: questions this
     * call just answered. `peek`: what the run waits for right now, by query, without waiting or marking it handed back.
     */
    options: { justStarted?: () => Promise<RunStatus>; answered?: string[]; peek?: boolean } = {},
  ): Promise<CallOutcome> {
    const { client, sign, stopWaiting } = this.#deps;
    const runs = { markDelivered: (id: string) => this.#deps.runs.markDelivered(id), markHandedBack: async (id: string) => void (options.peek || (await this.#deps.runs.markHandedBack(id))) };
    const deadline = performance.now() + waitMs;
    const token = await sign(identityOf(principal), { rootWorkflowId: runId, tool: tool.name });
    const known = new Map<string, ConsentRequest | undefined>();
    // A run this call just started has asked for nothing yet: no need to ask it what it waits on.
    const seen = options.justStarted ? new Set<string>() : await this.#notToAskNow(principal, runId, await this.#pendingNow(runId, token), asked, known);
    // Questions this call has just answered: the run takes the answers in a moment; they are not asked again.
    for (const inputId of options.answered ?? []) seen.add(inputId);
    let sent = options.justStarted;
    for (;;) {
      // Past the run's budget of update waits (each one grows its history), its status by query: answered at once.
      const byQuery = options.peek || (!sent && !this.#updates.take(runId));
      const outcome = byQuery ? await statusByQuery(client, runId, token) : await awaitRunOutcome(client, runId, token, [...seen], Math.max(0, deadline - performance.now()), stopWaiting, sent);
      sent = undefined;
      switch (outcome.state) {
        case 'completed':
          await runs.markDelivered(runId);
          return { kind: 'completed', runId, result: outcome.result, toolResult: isUpstreamTool(tool) };
        case 'failed':
          await runs.markDelivered(runId);
          return { kind: 'failed', runId, message: outcome.error.message };
        case 'paused': {
          for (const id of await this.#notToAskNow(principal, runId, outcome.pending, asked, known)) seen.add(id);
          const toAsk = outcome.pending.filter((consent) => !seen.has(consent.consentId));
          // Questions from a workflow of this run only (the answers go back to the one that asked); others are looked past.
          for (const input of outcome.inputs ?? []) if (!inRunTree(runId, input)) seen.add(input.inputId);
          const questions = (outcome.inputs ?? []).filter((input) => !seen.has(input.inputId));
          if (toAsk.length === 0 && questions.length > 0) {
            await runs.markHandedBack(runId);
            return { kind: 'needs_input', runId, inputs: questions };
          }
          if (toAsk.length === 0) {
            // Only consents already answered or already asked for: keep waiting for the run (or the user), silently.
            if (!byQuery && performance.now() < deadline && !stopWaiting?.aborted) continue;
            await runs.markHandedBack(runId);
            return { kind: 'still_running', runId };
          }
          await runs.markHandedBack(runId);
          return { kind: 'needs_consent', runId, links: await this.#consentLinks(principal, tool, runId, toAsk, await this.#openLinks(principal, asked, known)) };
        }
        default:
          await runs.markHandedBack(runId);
          return { kind: 'still_running', runId };
      }
    }
  }

  /** The consents the run lists right now (a closed run answers from its result: nothing to look past). */
  async #pendingNow(runId: string, token: string): Promise<PendingConsent[]> {
    try {
      return (await actingAs(token, () => this.#deps.client.workflow.getHandle(runId).query(runStatusQuery))).pending;
    } catch {
      return [];
    }
  }

  /**
   * The consents among `pending` not to ask the user about now: those already answered (granted, denied,
   * expired — the run has not caught up with the signal yet, and will), those a connection made meanwhile
   * answers (the run is told now), and those for an app whose link this call already gave and which is
   * still open (finishing it answers every pending request of the user for that app, this one too) — and any
   * the run reports that no request of this user's run stands behind: the run's report travels by signal,
   * which anyone with Temporal access could forge, while its requests are written only by activities that
   * verified the run's identity. `known` caches consent requests read during one call.
   */
  async #notToAskNow(principal: Principal, runId: string, pending: PendingConsent[], asked: AskedApps, known: Map<string, ConsentRequest | undefined>): Promise<Set<string>> {
    const skip = new Set<string>();
    const open = await this.#openLinks(principal, asked, known);
    for (const consent of pending) {
      const request = await this.#request(consent.consentId, known);
      if (!request || !reportedAsRecorded(consent, request, principal, runId)) skip.add(consent.consentId);
      else if (request.status !== 'pending' || (await this.#answeredByConnection(principal, request)) || open.has(consent.app)) skip.add(consent.consentId);
    }
    return skip;
  }

  /**
   * A request the user's connection already answers, though nobody told its run: the run's call failed
   * for want of a connection, the user connected the app, and only then did the run record the request —
   * after the connect flow had signalled every request it found. The vault shows the connection active
   * where the request says there was none usable (never connected, revoked, refresh failed), so the
   * connection was made after the failed call: the run gets the decision now, instead of the user being
   * asked for an app they just connected (or the run waiting until its consent times out).
   */
  async #answeredByConnection(principal: Principal, request: ConsentRequest): Promise<boolean> {
    const { client, stores } = this.#deps;
    if (!ANSWERED_BY_A_NEW_CONNECTION.has(request.reason)) return false;
    if ((await stores.vault.getConnectionInfo(principal.tenant, principal.subject, request.app))?.status !== 'active') return false;
    if (await decideRequest(client, stores.consents, request, 'granted')) {
      await stores.audit.record({
        kind: 'consent.granted',
        outcome: 'granted',
        actor: actorOf(principal),
        client: principal.clientId,
        app: request.app,
        rootRunId: request.rootWorkflowId,
        message: `answered by the ${request.app} connection made after the run asked`,
        durationMs: Date.now() - request.createdAt,
        detail: { consentId: request.id },
      });
    }
    return true;
  }

  /** The apps of `asked` whose link is still open (its request still pending, for this user). */
  async #openLinks(principal: Principal, asked: AskedApps, known: Map<string, ConsentRequest | undefined>): Promise<Set<string>> {
    const open = new Set<string>();
    for (const [app, consentId] of Object.entries(asked)) {
      const request = await this.#request(consentId, known);
      if (request?.status === 'pending' && request.app === app && request.tenant === principal.tenant && request.subject === principal.subject) open.add(app);
    }
    return open;
  }

  /** A consent request by id; one closed stays closed, so only pending ones are read again. */
  async #request(consentId: string, known: Map<string, ConsentRequest | undefined>): Promise<ConsentRequest | undefined> {
    const cached = known.get(consentId);
    if (cached && cached.status !== 'pending') return cached;
    const request = await this.#deps.stores.consents.get(consentId);
    known.set(consentId, request);
    return request;
  }

  /**
   * One link per app: for the consents the run waits on, then pre-flight requests for apps it will need
   * later — leaving out apps whose link this call already gave and the user has not finished (`stillOpen`).
   * An app keeps its link from one answer to the next: the oldest request of this run still open for it
   * (finishing any one answers them all).
   */
  async #consentLinks(principal: Principal, tool: CallableDefinition, runId: string, pending: PendingConsent[], stillOpen: Set<string>): Promise<ConsentLink[]> {
    const { stores, settings } = this.#deps;
    const links = new Map<string, ConsentLink>();
    const link = (consentId: string, app: string, appName: string, message: string) => ({ app, appName, consentId, url: `${settings.publicUrl}/connect/${consentId}`, message });
    for (const consent of pending) {
      if (links.has(consent.app)) continue;
      const oldest = (await stores.consents.pendingFor(principal.tenant, principal.subject, consent.app)).find((request) => request.rootWorkflowId === runId);
      links.set(consent.app, link(oldest?.id ?? consent.consentId, consent.app, consent.appName, consent.message));
    }
    for (const missing of await appsToConnect(tool, principal, settings, stores.vault)) {
      if (links.has(missing.app) || stillOpen.has(missing.app)) continue;
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

/** Whether a consent the run reports is the request recorded for it: this user's, in this run, for that app and waiting workflow. */
function reportedAsRecorded(consent: PendingConsent, request: ConsentRequest, principal: Principal, runId: string): boolean {
  return (
    request.tenant === principal.tenant &&
    request.subject === principal.subject &&
    request.rootWorkflowId === runId &&
    request.app === consent.app &&
    request.waitingWorkflowId === consent.waitingWorkflowId
  );
}

/** Whether a question was asked by a workflow of run `runId` (child workflow ids extend their root's), under an id of its own. */
function inRunTree(runId: string, { waitingWorkflowId, inputId }: Pick<PendingInput, 'waitingWorkflowId' | 'inputId'>): boolean {
  return (waitingWorkflowId === runId || waitingWorkflowId.startsWith(`${runId}/`)) && inputId.startsWith(`${waitingWorkflowId}/input-`);
}
