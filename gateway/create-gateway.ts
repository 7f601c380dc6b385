import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/express';
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { Client } from '@temporalio/client';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { GatewaySettings } from '../core/config/gateway-settings.ts';
import { appDisplayName, type BatonSettings } from '../core/config/settings.ts';
import type { IdentitySigner } from '../core/identity/signer.ts';
import type { BatonStores } from '../core/stores.ts';
import { requiredMcpServers, type CallableDefinition } from '../workflows/sdk/define.ts';
import { createAccessTokenVerifier } from './auth/access-token-verifier.ts';
import { AccessGrants } from '../core/access/access-grants.ts';
import { AccessPolicy } from './access/access-policy.ts';
import { ToolAccess } from './access/tool-access.ts';
import { ApiTokenStore } from '../core/api-tokens/api-token-store.ts';
import { declareConfiguredApiTokens } from './auth/declared-api-tokens.ts';
import { verifierPerIssuer } from './auth/issuer-router.ts';
import { ConnectFlow } from './consent/connect-flow.ts';
import { DisabledUsers } from '../core/access/disabled-users.ts';
import { refuseDisabledUsers } from './access/refuse-disabled-users.ts';
import { UserDisabling } from './access/user-disabling.ts';
import { ConnectionRevocation } from './connections/connection-revocation.ts';
import { adminRoutes } from './http/admin-routes.ts';
import { auditRoutes } from './http/audit-routes.ts';
import { connectionRoutes } from './http/connection-routes.ts';
import { runRoutes } from './http/run-routes.ts';
import { scheduleRoutes } from './http/schedule-routes.ts';
import { toolRunRoutes } from './http/tool-run-routes.ts';
import { userAdminRoutes } from './http/user-admin-routes.ts';
import { bearerAuth } from './http/bearer-auth.ts';
import { healthRoutes } from './http/health.ts';
import { passthroughAuth } from './http/passthrough-auth.ts';
import { mcpEndpoint } from './http/mcp-endpoint.ts';
import { protectedResourceMetadataUrl, protectedResourceRoutes } from './http/protected-resource.ts';
import { finalErrorHandler } from './http/final-errors.ts';
import { createMetrics, metricsHandler } from '../core/metrics/metrics.ts';
import { LegacyClientCapabilities } from '../core/mcp/legacy-clients.ts';
import { mcpCallMetrics } from './mcp/mcp-metrics.ts';
import { mcpServerFactory } from './mcp/mcp-server.ts';
import { RunTasks } from './mcp/run-tasks.ts';
import { ToolRunner } from './mcp/tool-runner.ts';
import { RunRegistry } from '../core/runs/run-registry.ts';
import { ScheduleStore } from '../core/schedules/schedule-store.ts';
import { ScheduleService } from './schedules/schedule-service.ts';
import { loadScheduleSettings } from './schedules/schedule-settings.ts';
import { BrowserSessions } from '../core/sessions/browser-sessions.ts';
import { accountRoutes } from './web/account-routes.ts';
import { oauthClientsFor } from '../core/oauth/oauth-clients.ts';
import { UpstreamCatalogue } from '../core/upstreams/upstream-catalogue.ts';
import { UpstreamClients } from '../core/upstreams/upstream-client.ts';
import { createUpstreamTools } from './upstreams/create-upstream-tools.ts';
import { upstreamRoutes } from './upstreams/upstream-routes.ts';
import { consentRoutes } from './web/consent-routes.ts';
import { OidcSignIn } from './web/oidc-sign-in.ts';
import { signInRateLimit } from './web/sign-in-redirect.ts';
import { expireStaleConsentRequests } from './consent/stale-requests.ts';

export interface GatewayDependencies {
  settings: BatonSettings;
  gateway: GatewaySettings;
  stores: BatonStores;
  client: Client;
  sign: IdentitySigner;
  tools: readonly CallableDefinition[];
  log: Logger;
  version: string;
  /** For the configuration file's `env:` secret references. */
  env: NodeJS.ProcessEnv;
}

export interface Gateway {
  app: Express;
  /** Shutting down: tool calls waiting on runs stop waiting and answer with a handle (requests in flight finish). */
  drain(): void;
  close(): Promise<void>;
}

/**
 * The gateway as one express app: MCP at `/mcp` (stateless, both protocol eras), its OAuth metadata,
 * the consent pages, and health checks. Everything a later request needs is in Temporal or the
 * database, so any number of these can sit behind a plain load balancer. Resolves once the
 * configuration file's API tokens are in the database.
 */
export async function createGateway(dependencies: GatewayDependencies): Promise<Gateway> {
  const { settings, gateway, stores, client, log } = dependencies;
  // A tool that calls an MCP server this deployment has not configured could only fail: it is not served. (An
  // app whose actions are exposed as tools is served that way: gateway/apps/exposed-tools.ts.)
  const serves = (id: string) => settings.apps.get(id)?.connector.upstream !== undefined || settings.apps.get(id)?.expose !== undefined;
  const unserved = dependencies.tools.filter((tool) => requiredMcpServers(tool).some((id) => !serves(id)));
  for (const tool of unserved) log.warn({ tool: tool.name, mcpServers: requiredMcpServers(tool) }, 'tool not served: it calls an MCP server missing from mcpServers in the configuration');
  const deps = { ...dependencies, tools: dependencies.tools.filter((tool) => !unserved.includes(tool)) };
  // Each MCP server is its own OAuth resource: tokens must name its URL (RFC 8707), so one verifier each,
  // per identity provider (the one in the environment, and any the configuration file adds).
  const homeIssuer = gateway.identityProvider.issuer;
  const verifierFor = (audience: string) =>
    verifierPerIssuer(
      new Map([
        [
          gateway.identityProvider.issuer,
          createAccessTokenVerifier({ issuer: gateway.identityProvider.issuer, audience, jwks: gateway.identityProvider.jwks, defaultTenant: gateway.defaultTenant, homeIssuer }),
        ],
        ...settings.config.identityProviders.map(
          (idp) =>
            [
              idp.issuer,
              createAccessTokenVerifier({
                issuer: idp.issuer,
                audience,
                jwks: idp.jwks ?? { url: idp.jwksUrl! },
                defaultTenant: idp.defaultTenant ?? gateway.defaultTenant,
                claimNames: { tenant: idp.tenantClaim, groups: idp.groupsClaim },
                claimMaps: { tenants: idp.tenantMap, groups: idp.groupMap },
                homeIssuer,
              }),
            ] as const,
        ),
      ]),
    );
  const apiTokens = new ApiTokenStore(stores.db);
  await declareConfiguredApiTokens(settings, apiTokens, deps.env);
  const legacyClients = new LegacyClientCapabilities(stores.db);
  const grants = new AccessGrants(stores.db);
  const policy = new AccessPolicy(settings.config, grants);
  const runs = new RunRegistry(stores.db);
  const revocation = new ConnectionRevocation({ settings, stores, log });
  const stopWaiting = new AbortController();
  const runner = new ToolRunner({ client, sign: deps.sign, stores, settings, gateway, runs, stopWaiting: stopWaiting.signal });
  const tasks = new RunTasks({ runner, client, runs, consents: stores.consents, audit: stores.audit, ttlMs: gateway.taskTtlMs, pollIntervalMs: gateway.taskPollIntervalMs });
  const metrics = createMetrics('gateway', stores.audit);
  const mcpMetrics = mcpCallMetrics(metrics);
  const oauthClients = oauthClientsFor(settings, stores.vault);
  const upstreamClients = new UpstreamClients();
  // An upstream's tool list changed: Baton's own lists change too; clients listening on Baton's servers are told.
  upstreamClients.onToolsChanged(() => servers.forEach(({ handler }) => handler.notify.toolsChanged()));
  const upstreams = createUpstreamTools({
    settings,
    stores,
    catalogue: new UpstreamCatalogue(upstreamClients),
    ownTools: deps.tools.map((tool) => tool.name),
    log,
    metrics,
    env: deps.env,
    oauthClients,
  });
  const servers = policy.servers().map((server) => {
    const path = server === 'default' ? '/mcp' : `/mcp/${server}`;
    const resourceUrl = `${settings.publicUrl}${path}`;
    const handler = createMcpHandler(
      mcpServerFactory({ server, policy, tools: deps.tools, upstreams, runner, tasks, legacyClients, gateway, version: deps.version, audit: stores.audit, metrics: mcpMetrics }),
      {
        legacy: 'stateless',
        maxRequestBodySize: gateway.maxBodyBytes,
        onerror: (error) => log.debug({ err: error }, 'MCP handler reported an error'),
      },
    );
    return { path, resourceUrl, handler, auth: policy.server(server)!.auth };
  });
  // The gateway's own resource (`<public url>/mcp`): health checks the identity providers' keys with it,
  // and the admin API takes tokens meant for it.
  const mainVerifier = verifierFor(gateway.resourceUrl);
  // A user an admin disabled is refused on every authenticated route (MCP, admin and connections API).
  const disabledUsers = new DisabledUsers(stores.db);
  const browserSessions = new BrowserSessions(stores.db);
  const refuseDisabled = (authenticate: RequestHandler) => refuseDisabledUsers(authenticate, { disabledUsers, audit: stores.audit });
  const bearerFor = (resourceUrl: string) =>
    refuseDisabled(
      bearerAuth({
        verifier: resourceUrl === gateway.resourceUrl ? mainVerifier : verifierFor(resourceUrl),
        apiTokens,
        requiredScopes: gateway.requiredScopes,
        resourceMetadataUrl: protectedResourceMetadataUrl(resourceUrl),
        resourceUrl,
      }),
    );

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // DNS-rebinding protection: a browser page on another site cannot reach Baton through a rebound name.
  app.use(hostHeaderValidation(gateway.allowedHosts), originValidation(gateway.allowedHosts));
  app.use((req, res, next) => {
    const started = performance.now();
    res.on('finish', () => log.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request'));
    next();
  });
  app.use(healthRoutes({ client, db: stores.db, verifier: mainVerifier, cacheMs: gateway.readinessCacheMs }));
  app.get('/metrics', metricsHandler(metrics, gateway.metricsToken));
  app.use(runRoutes({ authenticate: bearerFor(gateway.resourceUrl), stores, client, runs, publicUrl: settings.publicUrl, appName: (app) => appDisplayName(settings, app) }));
  app.use(connectionRoutes({ authenticate: bearerFor(gateway.resourceUrl), stores, revocation }));
  // The other triggers of the same tools (HTTP API, schedules): the default server's access lists, as
  // their tokens are for its resource.
  const triggers = loadScheduleSettings(deps.env);
  const toolAccess = new ToolAccess({ policy, runner, tools: deps.tools, upstreams });
  const apiLimits = { maxBodyBytes: gateway.maxBodyBytes, rateLimitPerMinute: gateway.rateLimitPerMinute, log };
  app.use(
    toolRunRoutes({
      authenticate: bearerFor(gateway.resourceUrl),
      access: toolAccess,
      runner,
      audit: stores.audit,
      server: 'default',
      defaultWaitSeconds: triggers.apiDefaultWaitSeconds,
      maxWaitSeconds: gateway.callWaitMs / 1000,
      ...apiLimits,
    }),
  );
  const schedules = new ScheduleStore(stores.db);
  const scheduleService = new ScheduleService({ client, sign: deps.sign, store: schedules, audit: stores.audit, taskQueue: settings.temporal.taskQueue, consentTimeoutMs: triggers.consentTimeoutMs });
  app.use(
    scheduleRoutes({
      authenticate: bearerFor(gateway.resourceUrl),
      access: toolAccess,
      runner,
      policy,
      service: scheduleService,
      store: schedules,
      audit: stores.audit,
      settings: triggers,
      server: 'default',
      ...apiLimits,
    }),
  );
  // Before adminRoutes, whose `/admin` authentication would otherwise run a second time for these.
  app.use(
    userAdminRoutes({
      authenticate: bearerFor(gateway.resourceUrl),
      policy,
      audit: stores.audit,
      disabledUsers,
      disabling: new UserDisabling({ disabledUsers, runs, client, audit: stores.audit, sessions: browserSessions }),
    }),
  );
  app.use(auditRoutes({ authenticate: bearerFor(gateway.resourceUrl), policy, audit: stores.audit }));
  app.use(
    upstreamRoutes({
      authenticate: bearerFor(gateway.resourceUrl),
      policy,
      audit: stores.audit,
      upstreams,
      publicUrl: settings.publicUrl,
      oauthUpstreams: [...settings.apps.values()].filter((app) => app.connector.upstream && app.connector.oauth).map((app) => app.id),
    }),
  );
  app.use(
    adminRoutes({ authenticate: bearerFor(gateway.resourceUrl), tools: deps.tools.filter((tool) => tool.kind === 'tool').map((tool) => tool.name), policy, grants, apiTokens, audit: stores.audit }),
  );
  for (const { path, resourceUrl, handler, auth } of servers) {
    // A passthrough server is no OAuth resource of Baton's: it advertises no authorization server.
    if (auth.mode === 'oauth') app.use(protectedResourceRoutes({ resourceUrl, issuer: gateway.identityProvider.issuer, scopes: gateway.requiredScopes }));
    app.use(
      mcpEndpoint({
        path,
        handler,
        authenticate: auth.mode === 'passthrough' ? refuseDisabled(passthroughAuth(auth, { defaultTenant: gateway.defaultTenant, homeIssuer })) : bearerFor(resourceUrl),
        legacyClients,
        maxBodyBytes: gateway.maxBodyBytes,
        rateLimitPerMinute: gateway.rateLimitPerMinute,
        consentAsHttp401: gateway.consentPromptMode === 'http-401',
        log,
      }),
    );
  }
  const browser = {
    flow: new ConnectFlow(settings, stores, client, oauthClients),
    sessions: browserSessions,
    signIn: new OidcSignIn(gateway, settings.publicUrl),
    secureCookies: settings.publicUrl.startsWith('https://'),
    signInLimit: signInRateLimit(gateway.signInRateLimitPerMinute),
    csrfKey: gateway.requestStateKey,
    disabledUsers,
    log,
  };
  app.use(consentRoutes(browser));
  app.use(accountRoutes({ ...browser, settings, stores, client, runs, revocation, policy }));
  app.use(finalErrorHandler(log));
  const staleConsents = expireStaleConsentRequests({ consents: stores.consents, ttlMs: gateway.consentRequestTtlMs, log });
  return {
    app,
    drain: () => stopWaiting.abort(),
    close: async () => {
      staleConsents.stop();
      await Promise.all(servers.map(({ handler }) => handler.close()));
      await upstreamClients.close();
    },
  };
}
