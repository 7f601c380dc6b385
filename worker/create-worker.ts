import { NativeConnection, Worker } from '@temporalio/worker';
import { join } from 'node:path';
import { connectors } from '../apps/index.ts';
import { createActivities, identityInterceptor } from '../activities/index.ts';
import type { BatonSettings } from '../core/config/settings.ts';
import { loadIdentityKeys } from '../core/identity/keys.ts';
import { ClientCredentialsTokens } from '../core/oauth/client-credentials.ts';
import { TokenExchanges } from '../core/oauth/token-exchange.ts';
import { createIdentityVerifier } from '../core/identity/verifier.ts';
import { AppOAuthClient } from '../core/oauth/oauth-client.ts';
import { openStores, type BatonStores } from '../core/stores.ts';
import { tracingOff, type Tracing } from '../core/telemetry/tracing.ts';
import { defaultWorkflowsPath, workflowInterceptorsPath } from './bundle.ts';
import { activityTracing, workflowSpanSinks } from './tracing.ts';

export interface BatonWorker {
  worker: Worker;
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
  const stores = openStores(settings, env);
  const keys = await loadIdentityKeys({ env, devKeyFile: join(settings.home, 'identity-key.json') });
  const oauthClients = new Map<string, AppOAuthClient>();
  for (const app of settings.apps.values()) {
    if (app.mode === 'user_oauth' && app.client && connectors.get(app.id)?.oauth) oauthClients.set(app.id, new AppOAuthClient(app));
  }
  const connection = await NativeConnection.connect({ address: settings.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: settings.temporal.namespace,
    taskQueue: settings.temporal.taskQueue,
    // A prebuilt bundle already contains the workflow interceptors (see bundle.ts).
    ...(workflowBundlePath ? { workflowBundle: { codePath: workflowBundlePath } } : { workflowsPath: defaultWorkflowsPath }),
    activities: createActivities({
      ...stores,
      settings,
      oauthClients,
      secretsDir: settings.secretsDir,
      clientCredentials: new ClientCredentialsTokens(),
      tokenExchanges: new TokenExchanges(),
      toolCredential: (tool, app) => settings.config.tools[tool]?.credentials[app],
    }),
    sinks: workflowSpanSinks(tracing),
    interceptors: {
      // Tracing first (outermost), so the activity's span also covers the identity check.
      activity: [...activityTracing(tracing), identityInterceptor(createIdentityVerifier(keys.publicKeys))],
      ...(workflowBundlePath ? {} : { workflowModules: [workflowInterceptorsPath] }),
    },
  });
  return {
    worker,
    stores,
    async close() {
      await connection.close();
      stores.db.close();
    },
  };
}
