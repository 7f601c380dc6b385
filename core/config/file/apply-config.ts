import { connectors, type AppEndpoints } from '../../../apps/index.ts';
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

export function applyConfiguredApps(apps: Map<string, AppSettings>, loaded: LoadedConfig, env: NodeJS.ProcessEnv): void {
  const { fail, secret } = configReader(loaded, env);
  for (const [id, app] of Object.entries(loaded.config.apps)) {
    const known = apps.get(id);
    if (!known || !connectors.has(id)) throw fail(`apps.${id}`, `there is no connector for "${id}"; known apps: ${[...connectors.keys()].join(', ')}`);
    const endpoints: AppEndpoints = {
      apiBaseUrl: app.baseUrl ?? known.endpoints.apiBaseUrl,
      authorizeUrl: app.oauth?.authorizeUrl ?? known.endpoints.authorizeUrl,
      tokenUrl: app.oauth?.tokenUrl ?? known.endpoints.tokenUrl,
      revokeUrl: app.oauth?.revokeUrl ?? known.endpoints.revokeUrl,
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
    });
  }
  for (const [tool, { credentials }] of Object.entries(loaded.config.tools)) {
    for (const app of Object.keys(credentials)) {
      if (!connectors.has(app)) throw fail(`tools.${tool}.credentials.${app}`, `there is no connector for "${app}"; known apps: ${[...connectors.keys()].join(', ')}`);
    }
  }
}
