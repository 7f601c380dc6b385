import type { AppConnector } from '../../../apps/index.ts';
import type { UpstreamMcpServer } from '../../../apps/types.ts';
import type { AppSettings } from '../settings.ts';
import type { McpServerConfig } from './schema.ts';
import { configReader } from './apply-config.ts';
import type { LoadedConfig } from './load-config.ts';

/**
 * Adds the configuration file's upstream MCP servers (`mcpServers`) to the apps: each becomes an app
 * whose calls are MCP tool calls, so connections, consent, the vault, revocation and the audit trail
 * treat it exactly as they treat a REST app. An id that is also a built-in app's is refused, naming both.
 */
export function applyConfiguredUpstreams(apps: Map<string, AppSettings>, loaded: LoadedConfig, env: NodeJS.ProcessEnv): void {
  const { fail, secret: read } = configReader(loaded, env);
  for (const [id, upstream] of Object.entries(loaded.config.mcpServers)) {
    const path = `mcpServers.${id}`;
    if (apps.has(id)) throw fail(path, `"${id}" is already the id of the app "${apps.get(id)!.connector.displayName}" (apps.${id}); give the MCP server another id`);
    const url = resolveUrl(upstream.url, env, `${path}.url`, fail);
    const client = upstream.oauth
      ? { clientId: read(upstream.oauth.clientId, `${path}.oauth.clientId`), clientSecret: upstream.oauth.clientSecret ? read(upstream.oauth.clientSecret, `${path}.oauth.clientSecret`) : undefined }
      : undefined;
    const connector = upstreamConnector(id, url, upstream, client);
    apps.set(id, {
      id,
      connector,
      endpoints: connector.defaultEndpoints,
      mode: upstream.credential.mode,
      scopes: upstream.oauth?.scopes ?? [],
      credential: upstream.credential,
      headers: upstream.headers,
      allowHeaderOverride: false,
    });
  }
}

function upstreamConnector(id: string, url: string, upstream: McpServerConfig, client: UpstreamMcpServer['client']): AppConnector {
  return {
    id,
    displayName: upstream.displayName ?? id,
    defaultEndpoints: { apiBaseUrl: url, authorizeUrl: upstream.oauth?.authorizationUrl, tokenUrl: upstream.oauth?.tokenUrl },
    defaultMode: upstream.credential.mode,
    oauth: upstream.credential.mode === 'user_oauth' ? { defaultScopes: upstream.oauth?.scopes ?? [], scopeSeparator: ' ' } : undefined,
    actions: {},
    upstream: {
      url,
      tools: upstream.tools,
      timeoutMs: upstream.timeoutSeconds * 1000,
      protocol: upstream.protocol,
      maxResultBytes: upstream.maxResultBytes,
      toolsCacheMs: upstream.toolsCacheSeconds * 1000,
      authorizationUrl: upstream.oauth?.authorizationUrl,
      tokenUrl: upstream.oauth?.tokenUrl,
      toolsCredential: upstream.toolsCredential,
      client,
    },
  };
}

/** A URL given as is or as `env:NAME` (an http(s) URL from the environment). */
export function resolveUrl(value: string, env: NodeJS.ProcessEnv, path: string, fail: (path: string, message: string) => Error): string {
  if (!value.startsWith('env:')) return value;
  const name = value.slice('env:'.length);
  const resolved = env[name];
  if (!resolved) throw fail(path, `environment variable ${name} is not set`);
  if (!URL.canParse(resolved) || !/^https?:$/.test(new URL(resolved).protocol)) throw fail(path, `environment variable ${name} is not an http(s) URL`);
  return resolved;
}
