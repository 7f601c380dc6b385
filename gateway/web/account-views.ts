import type { Client } from '@temporalio/client';
import type { AuditRecord } from '../../core/audit/audit-event.ts';
import { appDisplayName, type BatonSettings } from '../../core/config/settings.ts';
import type { BatonStores } from '../../core/stores.ts';
import type { ConnectionInfo } from '../../core/vault/connection-types.ts';
import type { ConnectFlow } from '../consent/connect-flow.ts';
import type { RegisteredRun, RunRegistry } from '../../core/runs/run-registry.ts';

/**
 * What the account pages show, gathered from the vault, the run registry, the consent store, the audit
 * trail and Temporal, always for one signed-in user. Nothing here carries a secret: connections come
 * as ConnectionInfo (no tokens), steps as audit records (which never hold one).
 */

export interface AccountUser {
  tenant: string;
  subject: string;
}

export interface AppConnectionView {
  app: string;
  appName: string;
  /** `oauth`: connected on the app's consent screen; `api_key`: the user enters their own key on Baton's page. */
  connectWith: 'oauth' | 'api_key';
  /** Undefined when the user has not connected the app. */
  connection: ConnectionInfo | undefined;
}

export type RunState = 'running' | 'waiting' | 'completed' | 'failed' | 'unknown';

export interface RunView {
  runId: string;
  tool: string;
  createdAt: number;
  state: RunState;
  /** Temporal's own word for it (RUNNING, COMPLETED, FAILED, TERMINATED, …), or null when it could not be read. */
  temporalStatus: string | null;
  /** Why it failed, as the run recorded it in the audit trail. */
  failure: string | null;
  /** The apps the run is waiting for the user to connect, each with its consent request. */
  waitingOn: { consentId: string; app: string; appName: string }[];
  /** The run's app calls at every depth, oldest first. */
  steps: AuditRecord[];
}

/** Names apps for the pages: `appNamer(settings)('github')` → "GitHub". */
export const appNamer = (settings: Pick<BatonSettings, 'apps'>) => (app: string) => appDisplayName(settings, app);

/**
 * The apps a user connects for themselves (OAuth with a configured client, or their own API key, as the
 * app's configuration or a tool's override says), plus any app they hold a connection to anyway.
 */
export async function connectionViews(deps: { settings: BatonSettings; stores: BatonStores; flow: ConnectFlow }, user: AccountUser): Promise<AppConnectionView[]> {
  const { settings, stores, flow } = deps;
  const toolOverrides = Object.values(settings.config.tools).flatMap((tool) => Object.entries(tool.credentials));
  const connectable = (app: string): AppConnectionView['connectWith'] | undefined => {
    if (flow.personalApiKeyOf(app)) return 'api_key';
    const appSettings = settings.apps.get(app);
    // An upstream MCP server needs no configured client: Baton registers itself with its authorization server.
    if (!appSettings?.connector.oauth || !(appSettings.client || appSettings.connector.upstream)) return undefined;
    const userOauth = (appSettings.credential?.mode ?? appSettings.mode) === 'user_oauth' || toolOverrides.some(([name, credential]) => name === app && credential.mode === 'user_oauth');
    return userOauth ? 'oauth' : undefined;
  };
  const held = new Map((await stores.vault.listConnections(user.tenant, user.subject)).map((info) => [info.app, info]));
  const apps = [...new Set([...settings.apps.keys(), ...held.keys()])];
  return apps
    .map((app) => ({ app, connectWith: connectable(app), connection: held.get(app) }))
    .filter((view): view is { app: string; connectWith: AppConnectionView['connectWith']; connection: ConnectionInfo | undefined } => view.connectWith !== undefined || view.connection !== undefined)
    .map((view) => ({ ...view, appName: appDisplayName(settings, view.app), connectWith: view.connectWith ?? 'oauth' }))
    .sort((a, b) => a.appName.localeCompare(b.appName));
}

const closedStates: Record<string, RunState> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  TERMINATED: 'failed',
  TIMED_OUT: 'failed',
  CANCELED: 'failed',
  CANCELLED: 'failed',
};

const closedWithoutMessage: Record<string, string> = {
  TERMINATED: 'The run was terminated by an operator.',
  TIMED_OUT: 'The run timed out.',
  CANCELED: 'The run was cancelled.',
  CANCELLED: 'The run was cancelled.',
};

interface RunViewDependencies {
  stores: BatonStores;
  client: Client;
  appName: (app: string) => string;
}

/** One run as its owner sees it. The caller has already checked the run is theirs. */
async function viewOf(deps: RunViewDependencies, run: RegisteredRun, pending: { id: string; app: string; rootWorkflowId: string }[]): Promise<RunView> {
  let temporalStatus: string | null = null;
  try {
    temporalStatus = (await deps.client.workflow.getHandle(run.workflowId).describe()).status.name;
  } catch {
    temporalStatus = null; // gone from Temporal (retention) or Temporal unreachable: say so, do not fail the page
  }
  // One Connect button per app: the pre-flight and the step that reached the app may each have asked, and
  // connecting the app answers every request of the user for it; the newest is the one the run waits on.
  const newestPerApp = new Map(pending.filter((request) => request.rootWorkflowId === run.workflowId).map((request) => [request.app, request]));
  const waitingOn = [...newestPerApp.values()].map((request) => ({ consentId: request.id, app: request.app, appName: deps.appName(request.app) }));
  const state: RunState =
    temporalStatus === null
      ? 'unknown'
      : temporalStatus === 'RUNNING' || temporalStatus === 'CONTINUED_AS_NEW'
        ? waitingOn.length
          ? 'waiting'
          : 'running'
        : (closedStates[temporalStatus] ?? 'unknown');
  const finished = state === 'failed' ? (await deps.stores.audit.query({ rootRunId: run.workflowId, kind: 'tool_call.finished', limit: 1 }))[0] : undefined;
  return {
    runId: run.workflowId,
    tool: run.tool,
    createdAt: run.createdAt,
    state,
    temporalStatus,
    failure: state === 'failed' ? (finished?.message ?? closedWithoutMessage[temporalStatus ?? ''] ?? 'The run failed.') : null,
    waitingOn: state === 'waiting' ? waitingOn : [],
    steps: await deps.stores.audit.forRun(run.workflowId),
  };
}

/** The user's recent runs, newest first, with their status, what they wait for, and their steps. */
export async function runViews(deps: RunViewDependencies & { runs: RunRegistry }, user: AccountUser, limit: number): Promise<RunView[]> {
  const [pending, runs] = await Promise.all([deps.stores.consents.pendingForUser(user.tenant, user.subject), deps.runs.listFor(user, limit)]);
  return Promise.all(runs.map((run) => viewOf(deps, run, pending)));
}

/** One of the user's runs; undefined when there is no such run or it is someone else's (the same answer for both). */
export async function ownRunView(deps: RunViewDependencies & { runs: RunRegistry }, user: AccountUser, runId: string): Promise<RunView | undefined> {
  const run = await deps.runs.findOwned(runId, user);
  return run && viewOf(deps, run, await deps.stores.consents.pendingForUser(user.tenant, user.subject));
}
