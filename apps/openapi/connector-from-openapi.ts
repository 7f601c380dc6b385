/**
 * An app connector built from an OpenAPI 3.x document instead of code: each operation becomes an action
 * (named by its operationId, else method and path), whose input schema is built from its path and query
 * parameters and its JSON request body (as `body`) and checked before any call; the document's servers give
 * the base URL and its security schemes suggest the credential mode.
 */
import { z } from 'zod';
import { readRestAnswer, withObjectRef } from '../answers.ts';
import { rfc7009Revocation } from '../revocation.ts';
import type { AppAction, AppConnector, AppRequest, CredentialMode } from '../types.ts';
import { OpenApiError, operationPointer } from './errors.ts';
import type { OpenApiDocument, OpenApiOperation, OpenApiParameter } from './openapi-types.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export interface OpenApiAppOptions {
  id: string;
  /** Where the document came from, for messages. */
  source: string;
  displayName?: string;
  /** Overrides the document's first server URL. */
  baseUrl?: string;
  /** Only these operations become actions (by action name); every one must exist. */
  operations?: readonly string[];
  /** The result field that names the object an operation created, for the audit trail (`<app>:<value>`). */
  objectRefField?: string;
}

/** The connector for a dereferenced, validated document (load-openapi.ts). */
export function connectorFromOpenApi(document: OpenApiDocument, options: OpenApiAppOptions): AppConnector {
  const displayName = options.displayName ?? document.info?.title ?? options.id;
  const actions: Record<string, AppAction> = {};
  const pointers = new Map<string, string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item?.[method];
      if (!operation) continue;
      const pointer = operationPointer(path, method);
      const name =
        operation.operationId ??
        `${method}_${path
          .replace(/[{}]/g, '')
          .replace(/[^A-Za-z0-9]+/g, '_')
          .replace(/^_|_$/g, '')}`;
      const first = pointers.get(name);
      if (first) throw new OpenApiError('duplicate_operation', `${options.source}: two operations are named "${name}" (${first} and ${pointer}); give each a unique operationId.`);
      pointers.set(name, pointer);
      if (options.operations && !options.operations.includes(name)) continue;
      actions[name] = action(displayName, path, method, operation, [...(item.parameters ?? []), ...(operation.parameters ?? [])], `${options.source} ${pointer}`, options.objectRefField);
    }
  }
  for (const wanted of options.operations ?? []) {
    if (!pointers.has(wanted)) {
      throw new OpenApiError('unknown_operation', `${options.source} has no operation "${wanted}" (apps.${options.id}.openapi.operations); it has: ${[...pointers.keys()].join(', ')}.`);
    }
  }
  const baseUrl = options.baseUrl ?? document.servers?.[0]?.url;
  if (!baseUrl) throw new OpenApiError('no_base_url', `${options.source} names no server URL: set apps.${options.id}.openapi.baseUrl.`);
  const oauth = Object.values(document.components?.securitySchemes ?? {}).find((scheme) => scheme.type === 'oauth2' && scheme.flows?.authorizationCode)?.flows?.authorizationCode;
  return {
    id: options.id,
    displayName,
    defaultEndpoints: { apiBaseUrl: baseUrl.replace(/\/$/, ''), ...(oauth ? { authorizeUrl: oauth.authorizationUrl, tokenUrl: oauth.tokenUrl } : {}) },
    defaultMode: suggestedMode(document),
    // Revocation is RFC 7009's, at the URL the configuration gives (apps.<id>.oauth.revokeUrl): OpenAPI has no field for it.
    ...(oauth ? { oauth: { defaultScopes: Object.keys(oauth.scopes ?? {}), scopeSeparator: ' ' as const, revoke: rfc7009Revocation } } : {}),
    actions,
  };
}

/**
 * The credential mode the document's security schemes suggest: OAuth 2 authorization code → the user's own
 * connection; an API key, HTTP bearer or basic → that; none → none. Configuration may always say otherwise.
 */
export function suggestedMode(document: OpenApiDocument): CredentialMode {
  const schemes = Object.values(document.components?.securitySchemes ?? {});
  if (schemes.some((scheme) => scheme.type === 'oauth2' && scheme.flows?.authorizationCode)) return 'user_oauth';
  if (schemes.some((scheme) => scheme.type === 'apiKey')) return 'api_key';
  if (schemes.some((scheme) => scheme.type === 'http' && scheme.scheme?.toLowerCase() === 'bearer')) return 'bearer';
  if (schemes.some((scheme) => scheme.type === 'http' && scheme.scheme?.toLowerCase() === 'basic')) return 'basic';
  return 'none';
}

function action(
  appName: string,
  path: string,
  method: (typeof METHODS)[number],
  operation: OpenApiOperation,
  parameters: OpenApiParameter[],
  where: string,
  objectRefField: string | undefined,
): AppAction {
  const unsupported = parameters.filter((parameter) => parameter.in !== 'path' && parameter.in !== 'query');
  if (unsupported.length) {
    throw new OpenApiError(
      'unsupported_operation',
      `${where}: ${unsupported.map((parameter) => `${parameter.in} parameter "${parameter.name}"`).join(', ')} cannot be sent yet (only path and query parameters and a JSON body); leave the operation out with openapi.operations.`,
    );
  }
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const parameter of parameters) {
    properties[parameter.name] = { ...(parameter.schema ?? { type: 'string' }), ...(parameter.description ? { description: parameter.description } : {}) };
    if (parameter.required || parameter.in === 'path') required.push(parameter.name);
  }
  const body = operation.requestBody;
  if (body) {
    const json = body.content?.['application/json']?.schema;
    if (!json) throw new OpenApiError('unsupported_operation', `${where}: the request body is not JSON (${Object.keys(body.content ?? {}).join(', ')}); only application/json bodies can be sent.`);
    properties.body = json;
    if (body.required) required.push('body');
  }
  let input: z.ZodType;
  try {
    input = z.fromJSONSchema({ type: 'object', properties, required, additionalProperties: false } as never);
  } catch (error) {
    throw new OpenApiError('unsupported_operation', `${where}: its parameters or body cannot be checked as a schema (${(error as Error).message}).`, { cause: error });
  }
  const queryNames = parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name);
  return {
    description: operation.summary ?? operation.description ?? `${method.toUpperCase()} ${path}`,
    input,
    toRequest(values): AppRequest {
      const given = values as Record<string, unknown>;
      const query = Object.fromEntries(queryNames.filter((name) => given[name] !== undefined).map((name) => [name, String(given[name])]));
      return {
        method: method.toUpperCase() as AppRequest['method'],
        path: path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(given[name]))),
        ...(Object.keys(query).length ? { query } : {}),
        ...(given.body !== undefined ? { body: given.body } : {}),
      };
    },
    readAnswer(status, answer) {
      return withObjectRef(
        readRestAnswer(appName, status, answer, (result) => result),
        objectRefField,
      );
    },
  };
}
