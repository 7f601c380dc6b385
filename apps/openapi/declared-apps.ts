/**
 * Builds the connectors of the apps baton.yaml declares from OpenAPI documents (`apps.<id>.openapi`), once, as
 * the gateway or a worker starts: until then such an app has a name and no actions. A document that cannot be
 * read or used stops the start with what is wrong (OpenApiError).
 */
import type { BatonSettings } from '../../core/config/settings.ts';
import { connectorFromOpenApi } from './connector-from-openapi.ts';
import { loadOpenApiDocument } from './load-openapi.ts';

export async function loadDeclaredApps(settings: Pick<BatonSettings, 'apps' | 'config' | 'secretsDir'>): Promise<void> {
  for (const [id, app] of settings.apps) {
    const declared = app.connector.openapi;
    if (!declared || Object.keys(app.connector.actions).length > 0) continue;
    const document = await loadOpenApiDocument(declared.document, { baseDir: settings.secretsDir, allowRemoteRefs: declared.allowRemoteRefs });
    const configured = settings.config.apps[id];
    const connector = connectorFromOpenApi(document, {
      id,
      source: declared.document,
      displayName: configured?.openapi?.displayName,
      baseUrl: configured?.baseUrl,
      operations: declared.operations,
      objectRefField: declared.objectRef,
    });
    const defaults = connector.defaultEndpoints;
    settings.apps.set(id, {
      ...app,
      connector: { ...connector, openapi: declared },
      endpoints: {
        apiBaseUrl: configured?.baseUrl ?? defaults.apiBaseUrl,
        authorizeUrl: app.endpoints.authorizeUrl ?? defaults.authorizeUrl,
        tokenUrl: app.endpoints.tokenUrl ?? defaults.tokenUrl,
        revokeUrl: app.endpoints.revokeUrl,
      },
      scopes: app.scopes.length > 0 ? app.scopes : (connector.oauth?.defaultScopes ?? []),
    });
  }
}
