import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { BatonSettings } from '../../core/config/settings.ts';
import { ClientCredentialsTokens } from '../../core/oauth/client-credentials.ts';
import type { OAuthAppClient } from '../../core/oauth/oauth-app-client.ts';
import { TokenExchanges } from '../../core/oauth/token-exchange.ts';
import type { BatonStores } from '../../core/stores.ts';
import type { UpstreamCatalogue } from '../../core/upstreams/upstream-catalogue.ts';
import { UpstreamTools } from './upstream-tools.ts';

/**
 * The gateway's upstream tool source, with the credential sources the worker's activities use (so the
 * gateway lists an upstream's tools with exactly the credential a call would use) and a metric counting
 * upstreams left out of a tools/list.
 */
export function createUpstreamTools(deps: {
  settings: BatonSettings;
  stores: BatonStores;
  catalogue: UpstreamCatalogue;
  ownTools: readonly string[];
  log: Logger;
  metrics: Registry;
  env: NodeJS.ProcessEnv;
  /** The process's OAuth clients (core/oauth/oauth-clients.ts), shared with the connect flow. */
  oauthClients: ReadonlyMap<string, OAuthAppClient>;
}): UpstreamTools {
  const { settings, stores, oauthClients } = deps;
  const leftOut = new Counter({
    name: 'baton_upstream_list_failures_total',
    help: 'tools/list answers that left out an upstream MCP server (unreachable, refusing, malformed), by upstream.',
    labelNames: ['upstream'],
    registers: [deps.metrics],
  });
  return new UpstreamTools({
    settings,
    catalogue: deps.catalogue,
    ownTools: deps.ownTools,
    log: deps.log,
    onListFailure: (upstream) => leftOut.inc({ upstream }),
    credentials: {
      vault: stores.vault,
      audit: stores.audit,
      oauthClients,
      secretsDir: settings.secretsDir,
      env: deps.env,
      clientCredentials: new ClientCredentialsTokens(),
      tokenExchanges: new TokenExchanges(),
      toolCredential: (tool, app) => settings.config.tools[tool]?.credentials[app],
      settings,
    },
  });
}
