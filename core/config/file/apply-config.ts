import type { AppEndpoints } from '../../../apps/index.ts';
import { connectorFromActions, DeclaredActionError } from '../../../apps/declared/connector-from-actions.ts';
import type { AppConnector, CredentialMode, DeclaredOpenApi } from '../../../apps/types.ts';
import type { BatonConfig } from './schema.ts';
import { resolveUrl } from './upstream-servers.ts';
import type { AppSettings } from '../settings.ts';
import { ConfigError, type LoadedConfig } from './load-config.ts';
import { readSecret, SecretUnavailableError, type SecretRef } from './secret-ref.ts';

/**
 * Lays the configuration file's apps over the settings the environment gave: endpoints, OAuth client,
 * scopes and credential mode. Problems name the file and the path (`apps.github.oauth.clientSecret`).
 */
/**
 * How the configuration's appliers report a problem (`file  path: message`) and read a secret reference
 * at start (a missing secret is such a problem, naming the field that refers to it).
 */
export function configReader(loaded: LoadedConfig, env: NodeJS.ProcessEnv) {
  const fail = (path: string, message: string) => new ConfigError(`${loaded.file}  ${path}: ${message}`);
  const secret = (ref: SecretRef, path: string) => {
    try {
      return readSecret(ref, { env, baseDir: loaded.baseDir });
    } catch (error) {
      if (error instanceof SecretUnavailableError) throw fail(path, error.message);
      throw error;
    }
  };
  return { fail, secret };
}

/**
 * An app declared from an OpenAPI document: named now, its actions and default endpoints filled in when the
 * gateway or worker starts (apps/openapi/declared-apps.ts), since reading the document is asynchronous.
 */
/** An app whose HTTP actions the configuration declares: its connector is built now (apps/declared/). */
function httpApp(
  id: string,
  http: NonNullable<BatonConfig['apps'][string]['http']>,
  { baseUrl, mode, oauth }: { baseUrl: string; mode: CredentialMode; oauth?: { scopes: string[] } },
  fail: (path: string, message: string) => Error,
): AppSettings {
  let connector: AppConnector;
  try {
    connector = connectorFromActions(id, http, { baseUrl, mode, oauth });
  } catch (error) {
    if (error instanceof DeclaredActionError) throw fail(`apps.${id}.http.${error.field}`, error.message);
    throw error;
  }
  return { id, connector, endpoints: { apiBaseUrl: baseUrl }, mode, scopes: [], headers: [], allowHeaderOverride: false };
}

function declaredApp(id: string, displayName: string | undefined, openapi: DeclaredOpenApi): AppSettings {
  return {
    id,
    connector: { id, displayName: displayName ?? id, defaultEndpoints: { apiBaseUrl: '' }, defaultMode: 'none', actions: {}, openapi },
    endpoints: { apiBaseUrl: '' },
    mode: 'none',
    scopes: [],
    headers: [],
    allowHeaderOverride: false,
  };
}

export function applyConfiguredApps(apps: Map<string, AppSettings>, loaded: LoadedConfig, env: NodeJS.ProcessEnv): void {
  const { fail, secret } = configReader(loaded, env);
  // The apps written as code (Baton's and appsFrom's), before the configuration adds declared ones.
  const connectors = new Set(apps.keys());
  const codedApps = () => [...connectors].join(', ');
  for (const [id, app] of Object.entries(loaded.config.apps)) {
    if (app.openapi && connectors.has(id)) throw fail(`apps.${id}.openapi`, `"${id}" already has a connector written as code; declare the document under another id`);
    if (app.http && (connectors.has(id) || app.openapi))
      throw fail(`apps.${id}.http`, connectors.has(id) ? `"${id}" already has a connector written as code; declare the actions under another id` : 'declare either openapi or http, not both');
    if (app.http && !app.baseUrl) throw fail(`apps.${id}.baseUrl`, 'an app with declared http actions needs the base URL of its API');
    const known = app.http
      ? httpApp(id, app.http, { baseUrl: app.baseUrl!, mode: app.credential.mode, ...(app.oauth ? { oauth: { scopes: app.oauth.scopes ?? [] } } : {}) }, fail)
      : app.openapi
        ? declaredApp(id, app.openapi.displayName, { ...app.openapi, document: resolveUrl(app.openapi.document, env, `apps.${id}.openapi.document`, fail) })
        : apps.get(id);
    if (!known) throw fail(`apps.${id}`, `there is no connector for "${id}"; known apps: ${codedApps()} (or declare one: openapi.document for an OpenAPI document, http.actions for its HTTP actions)`);
    const oauthUrl = (field: 'authorizeUrl' | 'tokenUrl' | 'revokeUrl') => {
      const configured = app.oauth?.[field];
      return configured ? resolveUrl(configured, env, `apps.${id}.oauth.${field}`, fail) : known.endpoints[field];
    };
    const endpoints: AppEndpoints = {
      apiBaseUrl: app.baseUrl ?? known.endpoints.apiBaseUrl,
      authorizeUrl: oauthUrl('authorizeUrl'),
      tokenUrl: oauthUrl('tokenUrl'),
      revokeUrl: oauthUrl('revokeUrl'),
    };
    const client = app.oauth ? { clientId: secret(app.oauth.clientId, `apps.${id}.oauth.clientId`), clientSecret: secret(app.oauth.clientSecret, `apps.${id}.oauth.clientSecret`) } : known.client;
    if (app.credential.mode === 'user_oauth' && !client) throw fail(`apps.${id}.oauth`, 'user_oauth needs an OAuth client: give oauth.clientId and oauth.clientSecret');
    apps.set(id, {
      ...known,
      endpoints,
      client,
      mode: app.credential.mode,
      scopes: app.oauth?.scopes ?? known.scopes,
      credential: app.credential,
      headers: app.headers,
      allowHeaderOverride: app.allowHeaderOverride,
      ...(app.expose ? { expose: app.expose } : {}),
    });
  }
  for (const [tool, { credentials }] of Object.entries(loaded.config.tools)) {
    for (const app of Object.keys(credentials)) {
      if (!connectors.has(app)) throw fail(`tools.${tool}.credentials.${app}`, `there is no connector for "${app}"; known apps: ${codedApps()}`);
    }
  }
}
