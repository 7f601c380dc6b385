import type { AppSettings, BatonSettings } from '../config/settings.ts';
import { UpstreamRegistrations } from '../upstreams/registrations.ts';
import type { Vault } from '../vault/index.ts';
import { UpstreamOAuthClient, type UpstreamOAuthDependencies } from '../upstreams/upstream-oauth-client.ts';
import type { OAuthAppClient } from './oauth-app-client.ts';
import { AppOAuthClient } from './oauth-client.ts';

/**
 * The OAuth client users connect an app with: the configured one of a REST app, or the discovered one of
 * an upstream MCP server. Undefined when the app cannot be connected through OAuth (no client configured).
 */
function oauthClientFor(app: AppSettings, deps: UpstreamOAuthDependencies): OAuthAppClient | undefined {
  if (!app.connector.oauth) return undefined;
  if (app.connector.upstream) return new UpstreamOAuthClient(app.id, app.connector.upstream, app.scopes, deps);
  return app.client ? new AppOAuthClient(app) : undefined;
}

/**
 * One OAuth client per app users can connect, for a process: the connect flow and the vault's refresher
 * share them (an upstream's client discovers its authorization server once, not once per use).
 */
export function oauthClientsFor(settings: Pick<BatonSettings, 'apps' | 'publicUrl'>, vault: Vault): ReadonlyMap<string, OAuthAppClient> {
  const deps = { registrations: new UpstreamRegistrations(vault), publicUrl: settings.publicUrl };
  const clients = new Map<string, OAuthAppClient>();
  for (const app of settings.apps.values()) {
    const client = oauthClientFor(app, deps);
    if (client) clients.set(app.id, client);
  }
  return clients;
}
