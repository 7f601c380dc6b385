/**
 * An app connector built from HTTP actions declared in baton.yaml (`apps.<id>.http`), for an API without an
 * OpenAPI document: each action's method and path template, which input fields travel in the query (the rest
 * of a POST/PUT/PATCH input is the JSON body) and which travel as request headers, the JSON schema its input is
 * checked against before any call,
 * how the API reports errors in a 2xx answer (Slack's `{ok: false, error}`), and which result field names the
 * object it created.
 */
import { z } from 'zod';
import { readRestAnswer, withObjectRef } from '../answers.ts';
import { rfc7009Revocation } from '../revocation.ts';
import type { AppAction, AppConnector, AppRequest, CredentialMode } from '../types.ts';

export interface DeclaredHttpAction {
  method: AppRequest['method'];
  /** Relative to the base URL; `{name}` takes the input field `name`. */
  path: string;
  description?: string;
  /** The JSON schema of the input (an object); without one, the path's fields as strings. */
  input?: Record<string, unknown>;
  /** Input fields sent as query parameters. */
  query?: readonly string[];
  /** Input fields sent as request headers: field name → header name. */
  headers?: Readonly<Record<string, string>>;
  objectRef?: string;
}

export interface DeclaredHttpApp {
  displayName?: string;
  actions: Record<string, DeclaredHttpAction>;
  /** A 2xx answer whose `okField` is false is a failure, its `messageField` saying why. */
  errors?: { okField?: string; messageField?: string };
}

/** A declared action Baton cannot use; `field` is where, under `apps.<id>.http` (e.g. `actions.get.input`). */
export class DeclaredActionError extends Error {
  override name = 'DeclaredActionError';
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.field = field;
  }
}

/**
 * Header names an input field may never set: the credential's and the transport's own. Baton's credential and
 * configured headers are applied after an action's anyway, so this is about saying so at start, not at the call.
 */
const reservedHeaders = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'idempotency-key',
  'accept',
  'user-agent',
]);

/**
 * `oauth`: the app's OAuth client is configured (`apps.<id>.oauth`), so users connect it by the authorization
 * code flow with these default scopes, and disconnecting revokes at the configured `revokeUrl` (RFC 7009).
 */
export function connectorFromActions(id: string, declared: DeclaredHttpApp, { baseUrl, mode, oauth }: { baseUrl: string; mode: CredentialMode; oauth?: { scopes: string[] } }): AppConnector {
  const displayName = declared.displayName ?? id;
  const actions = Object.fromEntries(Object.entries(declared.actions).map(([name, action]) => [name, declaredAction(displayName, name, action, declared.errors)]));
  return {
    id,
    displayName,
    defaultEndpoints: { apiBaseUrl: baseUrl.replace(/\/$/, '') },
    defaultMode: mode,
    actions,
    ...(oauth ? { oauth: { defaultScopes: oauth.scopes, scopeSeparator: ' ' as const, revoke: rfc7009Revocation } } : {}),
  };
}

function declaredAction(appName: string, name: string, action: DeclaredHttpAction, errors: DeclaredHttpApp['errors']): AppAction {
  const where = `actions.${name}`;
  const pathFields = [...action.path.matchAll(/\{([^}]+)\}/g)].map(([, field]) => field!);
  const schema = action.input ?? { type: 'object', properties: Object.fromEntries(pathFields.map((field) => [field, { type: 'string' }])), required: pathFields, additionalProperties: false };
  let input: z.ZodType;
  try {
    input = z.fromJSONSchema(schema as never);
  } catch (error) {
    throw new DeclaredActionError(`${where}.input`, `cannot be used as a JSON schema (${(error as Error).message}).`, { cause: error });
  }
  const properties = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
  const inHeaders = new Map(Object.entries(action.headers ?? {}));
  for (const [field, header] of inHeaders) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) throw new DeclaredActionError(`${where}.headers.${field}`, `"${header}" is not an HTTP header name.`);
    if (reservedHeaders.has(header.toLowerCase()))
      throw new DeclaredActionError(`${where}.headers.${field}`, `"${header}" is set by Baton (the credential or the transport), never from input; send the value in another header.`);
  }
  const missing = [...pathFields, ...(action.query ?? []), ...inHeaders.keys()].filter((field) => action.input && !properties.includes(field));
  if (missing.length) {
    const named = missing.map((field) => `"${field}"`).join(', ');
    throw new DeclaredActionError(`${where}.input`, `${named} ${missing.length === 1 ? 'is' : 'are'} used in the path, query or headers but not declared here.`);
  }
  const inQuery = new Set(action.query ?? []);
  if (inHeaders.size > 0) {
    // A header value cannot hold a line break (it would end the header); refusing it here makes it bad input, not a failed request.
    input = input.superRefine((value, ctx) => {
      const given = value as Record<string, unknown>;
      for (const field of inHeaders.keys()) {
        const sent = given[field];
        if (typeof sent === 'string' && /[\r\n\0]/.test(sent)) ctx.addIssue({ code: 'custom', path: [field], message: 'is sent as a header, so it cannot contain a line break' });
      }
    });
  }
  const sendsBody = action.method === 'POST' || action.method === 'PUT' || action.method === 'PATCH';
  return {
    description: action.description ?? `${action.method} ${action.path}`,
    input,
    toRequest(values): AppRequest {
      const given = values as Record<string, unknown>;
      const query = Object.fromEntries([...inQuery].filter((field) => given[field] !== undefined).map((field) => [field, String(given[field])]));
      const headers = Object.fromEntries([...inHeaders].filter(([field]) => given[field] !== undefined).map(([field, header]) => [header, String(given[field])]));
      const rest = Object.fromEntries(Object.entries(given).filter(([field]) => !inQuery.has(field) && !inHeaders.has(field) && !pathFields.includes(field)));
      return {
        method: action.method,
        path: action.path.replace(/\{([^}]+)\}/g, (_, field: string) => encodeURIComponent(String(given[field]))),
        ...(Object.keys(query).length ? { query } : {}),
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(sendsBody ? { body: rest } : {}),
      };
    },
    readAnswer(status, answer) {
      const record = answer && typeof answer === 'object' ? (answer as Record<string, unknown>) : undefined;
      if (status >= 200 && status < 300 && errors?.okField && record?.[errors.okField] === false) {
        const why = errors.messageField ? record[errors.messageField] : undefined;
        return { kind: 'failed', message: `${appName} answered ${errors.okField}: false${typeof why === 'string' ? ` (${why})` : ''}`, retryable: false };
      }
      return withObjectRef(
        readRestAnswer(appName, status, answer, (result) => result),
        action.objectRef,
      );
    },
  };
}
