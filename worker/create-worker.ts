import { IdentityClaims } from '../core/identity/identity-claims.ts';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { join } from 'node:path';
import { consentWebhook, createActivities, createScheduledRunCheck, identityInterceptor } from '../activities/index.ts';
import type { BatonSettings } from '../core/config/settings.ts';
import { loadIdentityKeys } from '../core/identity/keys.ts';
import { ClientCredentialsTokens } from '../core/oauth/client-credentials.ts';
import { TokenExchanges } from '../core/oauth/token-exchange.ts';
import { createIdentityVerifier } from '../core/identity/verifier.ts';
import { createWorkflowMessageVerifier } from '../core/identity/workflow-messages.ts';
import { oauthClientsFor } from '../core/oauth/oauth-clients.ts';
import { UpstreamCatalogue } from '../core/upstreams/upstream-catalogue.ts';
import { UpstreamClients } from '../core/upstreams/upstream-client.ts';
import { ScheduleStore } from '../core/schedules/schedule-store.ts';
import { openStores, type BatonStores } from '../core/stores.ts';
import { connectWorkerConnection } from '../core/temporal/connect.ts';
import { shutdownGraceMs } from '../core/shutdown.ts';
import { tracingOff, type Tracing } from '../core/telemetry/tracing.ts';
import { loadDeclaredApps } from '../apps/openapi/declared-apps.ts';
import { loadTools, toolModulePaths } from '../core/catalogue/tool-modules.ts';
import { bundleFailure, workflowBundlerOptions, workflowInterceptorModules, writeWorkflowsEntry, type DisallowedImport } from './bundle.ts';
import { runRecordSinks } from './run-record-sink.ts';
import { activityTracing, workflowSpanSinks } from './tracing.ts';

export interface BatonWorker {
  worker: Worker;
  connection: NativeConnection;
  stores: BatonStores;
  close(): Promise<void>;
}

/**
 * A worker for Baton's task queue: workflow code (bundled from workflows/, or a prebuilt bundle),
 * the activities wired to the stores, and the identity and tracing interceptors on both sides.
 */
export async function createBatonWorker(
  settings: BatonSettings,
  { workflowBundlePath, env = process.env, tracing = tracingOff }: { workflowBundlePath?: string; env?: NodeJS.ProcessEnv; tracing?: Tracing } = {},
): Promise<BatonWorker> {
  const graceMs = shutdownGraceMs(env);
  // Apps declared from OpenAPI documents get their actions now, before anything reads the apps.
  await loadDeclaredApps(settings);
  const stores = await openStores(settings, env);
  let connection: NativeConnection | undefined;
  // Sessions with upstream MCP servers, reused across calls; closed with the worker.
  const upstreams = new UpstreamClients();
  try {
    const keys = await loadIdentityKeys({ env, devKeyFile: join(settings.home, 'identity-key.json') });
    // The clients the vault refreshes users' tokens with, one per app users connect through OAuth.
    const oauthClients = oauthClientsFor(settings, stores.vault);
    // Address, TLS, API key, connect timeout, namespace check: core/temporal/connect.ts. Once connected,
    // the SDK's pollers retry by themselves while Temporal is away (see worker/main.ts's connection watch).
    // The tools of baton.yaml (toolsFrom), loaded here first so a module that fails, or a name used twice,
    // stops the start with the files named; then bundled with Baton's dispatcher and interceptors.
    const workflowsPath = workflowBundlePath ? undefined : await toolsEntry(settings);
    const connected = await connectWorkerConnection(settings.temporal);
    connection = connected;
    const disallowed: DisallowedImport[] = [];
    const worker = await Worker.create({
      connection: connected,
      namespace: settings.temporal.namespace,
      taskQueue: settings.temporal.taskQueue,
      // On SIGTERM: stop polling, let activities in hand finish (then cancel them), give up after the force time.
      shutdownGraceTime: graceMs,
      shutdownForceTime: graceMs + 10_000,
      // A prebuilt bundle already contains the workflow interceptors (see bundle.ts).
      ...(workflowBundlePath ? { workflowBundle: { codePath: workflowBundlePath } } : { workflowsPath, bundlerOptions: workflowBundlerOptions(disallowed) }),
      activities: createActivities({
        ...stores,
        settings,
        oauthClients,
        secretsDir: settings.secretsDir,
        clientCredentials: new ClientCredentialsTokens(),
        tokenExchanges: new TokenExchanges(),
        toolCredential: (tool, app) => settings.config.tools[tool]?.credentials[app],
        consentNotifier: consentWebhook(env.BATON_CONSENT_WEBHOOK_URL),
        identityClaims: new IdentityClaims(stores.db),
        verifyMessage: createWorkflowMessageVerifier(keys.publicKeys),
        upstreams,
        catalogue: new UpstreamCatalogue(upstreams),
      }),
      sinks: { ...workflowSpanSinks(tracing), ...runRecordSinks(stores.audit) },
      interceptors: {
        // Tracing first (outermost), so the activity's span also covers the identity check.
        activity: [...activityTracing(tracing), identityInterceptor(createIdentityVerifier(keys.publicKeys), { scheduledRuns: createScheduledRunCheck({ store: new ScheduleStore(stores.db) }) })],
        ...(workflowBundlePath ? {} : { workflowModules: workflowInterceptorModules(tracing.enabled) }),
      },
    }).catch((error: unknown) => {
      throw bundleFailure(error, disallowed);
    });
    return {
      worker,
      connection: connected,
      stores,
      async close() {
        try {
          await connected.close();
        } finally {
          await upstreams.close();
          await stores.close();
        }
      },
    };
  } catch (error) {
    // The worker never started: release what was opened, and report the error that stopped it.
    await connection?.close().catch(() => undefined);
    await upstreams.close();
    await stores.close().catch(() => undefined);
    throw error;
  }
}

async function toolsEntry(settings: BatonSettings): Promise<string> {
  const modules = toolModulePaths(settings);
  await loadTools(modules);
  return writeWorkflowsEntry(modules, settings.home);
}
