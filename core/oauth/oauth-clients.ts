import type { AppSettings } from '../config/settings.ts';
import { UpstreamOAuthClient, type UpstreamOAuthDependencies } from '../upstreams/upstream-oauth-client.ts';
import type { OAuthAppClient } from './oauth-app-client.ts';
import { AppOAuthClient } from './oauth-client.ts';

/**
 * The OAuth client users connect an app with: the configured one of a REST app, or the discovered one of
 * an upstream MCP server. Undefined when the app cannot be connected through OAuth (no client configured).
 */
export function oauthClientFor(app: AppSettings, deps: UpstreamOAuthDependencies): OAuthAppClient | undefined {
  if (!app.connector.oauth) return undefined;
  if (app.connector.upstream) return new UpstreamOAuthClient(app.id, app.connector.upstream, app.scopes, deps);
  return app.client ? new AppOAuthClient(app) : undefined;
}
