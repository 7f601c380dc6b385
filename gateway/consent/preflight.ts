import { appDisplayName, needsUserConnection, type BatonSettings } from '../../core/config/settings.ts';
import type { Vault } from '../../core/vault/index.ts';
import { requiredApps, type CallableDefinition } from '../../workflows/sdk/define.ts';

export interface AppToConnect {
  app: string;
  appName: string;
  scopes: string[];
  reason: 'never_connected' | 'needs_reconsent' | 'revoked';
}

/**
 * Consent pre-flight: every app the tool (with all its descendants) will call with the user's own
 * connection and that the user has not connected, or must reconnect — known before the run starts,
 * so the user can be asked once for all of them. Service-account apps need nothing from the user.
 */
export async function appsToConnect(tool: CallableDefinition, user: { tenant: string; subject: string }, settings: BatonSettings, vault: Vault): Promise<AppToConnect[]> {
  const missing: AppToConnect[] = [];
  for (const appId of requiredApps(tool)) {
    const app = settings.apps.get(appId);
    if (!app || !needsUserConnection(app, settings, tool.name)) continue;
    const connection = await vault.getConnectionInfo(user.tenant, user.subject, appId);
    if (connection?.status === 'active') continue;
    missing.push({
      app: appId,
      appName: appDisplayName(settings, appId),
      scopes: app.scopes,
      reason: connection ? connection.status : 'never_connected',
    });
  }
  return missing;
}
