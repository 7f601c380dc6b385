import { resolve } from 'node:path';
import { z } from 'zod';
import type { AppConnector, AppEndpoints, CredentialMode } from '../../apps/index.ts';
import { appModulePaths, loadConnectors } from '../catalogue/app-modules.ts';
import { applyConfiguredApps } from './file/apply-config.ts';
import { applyConfiguredUpstreams } from './file/upstream-servers.ts';
import { loadConfigFile } from './file/load-config.ts';
import { configSchema, type BatonConfig, type CredentialConfig, type ExtraHeaderConfig } from './file/schema.ts';
import { loadTemporalSettings, type TemporalSettings } from '../temporal/settings.ts';
import { DEFAULT_POOL_SIZE, describePostgresUrl, type PostgresOptions } from '../storage/postgres.ts';

export interface AppSettings {
  id: string;
  /** What Baton knows of the app: a built-in connector, or one made for an upstream MCP server (`connector.upstream`). */
  connector: AppConnector;
  endpoints: AppEndpoints;
  mode: CredentialMode;
  scopes: string[];
  client?: { clientId: string; clientSecret: string };
  /** The configuration file's credential for the app (its secrets still references), when it has one. */
  credential?: CredentialConfig;
  /** Headers added to every call of the app, on top of its credential (configuration file). */
  headers: ExtraHeaderConfig[];
  /** Whether a client may replace this app's credential per call (X-Baton-Forward-Headers). */
  allowHeaderOverride: boolean;
  /** Actions served as MCP tools `<app>__<action>` (`apps.<id>.expose`): all of them, or these. */
  expose?: true | readonly string[];
}

export interface BatonSettings {
  home: string;
  /** The embedded SQLite database's file (`BATON_DB`, default `$BATON_HOME/baton.db`), used unless `databaseUrl` is set. */
  databasePath: string;
  /** `BATON_DATABASE_URL` (postgres://user:password@host:port/database): PostgreSQL instead of the SQLite file. */
  databaseUrl?: string;
  /** PostgreSQL pool: `BATON_DATABASE_POOL_SIZE` (10), `BATON_DATABASE_CONNECT_TIMEOUT_SECONDS` (10), `BATON_DATABASE_STATEMENT_TIMEOUT_SECONDS` (30). */
  databasePool: PostgresOptions;
  /** `BATON_AUDIT_CHECKPOINT_SECONDS` (10): how often a process that appended audit records writes a checkpoint. */
  auditCheckpointEveryMs: number;
  /** Address, namespace, task queue, TLS and API key (core/temporal/settings.ts). */
  temporal: TemporalSettings;
  /** Where browsers reach the gateway; the OAuth redirect URI hangs off it. */
  publicUrl: string;
  apps: Map<string, AppSettings>;
  /** The declarative configuration (`BATON_CONFIG`); without a file, the defaults: one server nobody may use. */
  config: BatonConfig;
  configFile: string | null;
  /** Where `file:` secret references are read from: the configuration file's folder. */
  secretsDir: string;
}

const url = z.url({ protocol: /^https?$/ });
const environment = z.object({
  BATON_HOME: z.string().default('.baton'),
  BATON_DB: z.string().optional(),
  // Checked below, without echoing the value: it holds the database password.
  BATON_DATABASE_URL: z.string().optional(),
  BATON_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(DEFAULT_POOL_SIZE),
  BATON_DATABASE_CONNECT_TIMEOUT_SECONDS: z.coerce.number().positive().default(10),
  BATON_DATABASE_STATEMENT_TIMEOUT_SECONDS: z.coerce.number().positive().default(30),
  BATON_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().positive().default(10),
  BATON_PUBLIC_URL: url.default('http://127.0.0.1:8080'),
  BATON_SANDBOX_URL: url.optional(),
  BATON_CONFIG: z.string().optional(),
});

/**
 * Reads Baton's settings from the environment. Each app's endpoints default to the real service;
 * `BATON_SANDBOX_URL` points them all at the local sandbox; `BATON_<APP>_API_URL`, `_AUTHORIZE_URL`,
 * `_TOKEN_URL`, `_REVOKE_URL`, `_CLIENT_ID`, `_CLIENT_SECRET`, `_MODE`, `_SCOPES` override one app.
 * A bad value stops the process with a message naming the variable.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): BatonSettings {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Environment variable ${String(issue?.path[0])} is invalid: ${issue?.message}.`);
  }
  const vars = parsed.data;
  const databaseUrl = vars.BATON_DATABASE_URL?.trim() || undefined;
  if (databaseUrl) {
    try {
      describePostgresUrl(databaseUrl);
    } catch (error) {
      throw new Error(`Environment variable BATON_DATABASE_URL is invalid: ${(error as Error).message}.`);
    }
  }
  const home = resolve(vars.BATON_HOME);
  const loaded = vars.BATON_CONFIG ? loadConfigFile(vars.BATON_CONFIG) : undefined;
  const config = loaded?.config ?? configSchema.parse({});
  // Apps written as code: Baton's own connectors and the configuration's appsFrom modules, registered alike.
  const connectors = loadConnectors(appModulePaths(config, { baseDir: loaded?.baseDir ?? process.cwd(), configFile: loaded?.file ?? null }));
  const apps = new Map<string, AppSettings>();
  for (const connector of connectors.values()) {
    const prefix = `BATON_${connector.id.toUpperCase()}_`;
    const base = (vars.BATON_SANDBOX_URL && connector.sandboxEndpoints?.(vars.BATON_SANDBOX_URL.replace(/\/$/, ''))) || connector.defaultEndpoints;
    const endpoints: AppEndpoints = {
      apiBaseUrl: env[`${prefix}API_URL`] ?? base.apiBaseUrl,
      authorizeUrl: env[`${prefix}AUTHORIZE_URL`] ?? base.authorizeUrl,
      tokenUrl: env[`${prefix}TOKEN_URL`] ?? base.tokenUrl,
      revokeUrl: env[`${prefix}REVOKE_URL`] ?? base.revokeUrl,
    };
    const modeVariable = env[`${prefix}MODE`];
    if (modeVariable !== undefined && modeVariable !== 'user_oauth' && modeVariable !== 'service_account') {
      throw new Error(`${prefix}MODE must be "user_oauth" or "service_account" (got "${modeVariable}"). Other modes are set in baton.yaml (apps.${connector.id}.credential).`);
    }
    const mode: CredentialMode = modeVariable ?? connector.defaultMode;
    const clientId = env[`${prefix}CLIENT_ID`];
    const clientSecret = env[`${prefix}CLIENT_SECRET`];
    apps.set(connector.id, {
      id: connector.id,
      connector,
      endpoints,
      mode,
      scopes: env[`${prefix}SCOPES`]?.split(/[ ,]+/).filter(Boolean) ?? connector.oauth?.defaultScopes ?? [],
      client: clientId && clientSecret ? { clientId, clientSecret } : undefined,
      headers: [],
      allowHeaderOverride: false,
    });
  }
  if (loaded) {
    applyConfiguredApps(apps, loaded, env);
    applyConfiguredUpstreams(apps, loaded, env);
  }
  return {
    home,
    databasePath: vars.BATON_DB ? resolve(vars.BATON_DB) : resolve(home, 'baton.db'),
    ...(databaseUrl ? { databaseUrl } : {}),
    auditCheckpointEveryMs: vars.BATON_AUDIT_CHECKPOINT_SECONDS * 1000,
    databasePool: {
      poolSize: vars.BATON_DATABASE_POOL_SIZE,
      connectTimeoutMs: vars.BATON_DATABASE_CONNECT_TIMEOUT_SECONDS * 1000,
      statementTimeoutMs: vars.BATON_DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000,
    },
    temporal: loadTemporalSettings(env, { config: loaded?.config.temporal, file: loaded?.file, baseDir: loaded?.baseDir ?? process.cwd() }),
    publicUrl: vars.BATON_PUBLIC_URL.replace(/\/$/, ''),
    apps,
    config,
    configFile: loaded?.file ?? null,
    secretsDir: loaded?.baseDir ?? process.cwd(),
  };
}

/** An app's (or upstream MCP server's) name as people read it: "GitHub", "Notes". */
export function appDisplayName(settings: Pick<BatonSettings, 'apps'>, app: string): string {
  return settings.apps.get(app)?.connector.displayName ?? app;
}

export function oauthRedirectUri(settings: Pick<BatonSettings, 'publicUrl'>, app: string): string {
  return `${settings.publicUrl}/oauth/callback/${app}`;
}

/**
 * Whether each user connects this app for themselves (OAuth consent, or entering their own API key on
 * Baton's page), given the credential in force: a tool's override (`tools.<tool>.credentials.<app>`) or the app's.
 */
export function needsUserConnection(app: AppSettings | undefined, settings: BatonSettings, tool: string): boolean {
  const credential = settings.config.tools[tool]?.credentials[app?.id ?? ''] ?? app?.credential;
  const mode = credential?.mode ?? app?.mode;
  return mode === 'user_oauth' || (credential?.mode === 'api_key' && credential.scope === 'individual');
}
