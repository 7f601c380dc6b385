import type { AppRequest } from '../../apps/index.ts';

export interface HttpAnswer {
  status: number;
  body: unknown;
}

export interface SendOptions {
  /** Sent as `Idempotency-Key` on writes, so apps that honour it apply a retried call once. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The first "." or ".." segment of a request path (also percent-encoded), which a URL resolves by walking up:
 * what an input such as a repository owner of ".." would become once placed in a path template.
 *
 * @example
 * dotSegmentIn('/repos/../admin/pulls/1'); // '..'
 * dotSegmentIn('/repos/acme/widgets.js/pulls/1'); // undefined
 */
export function dotSegmentIn(path: string): string | undefined {
  return path
    .split('?')[0]!
    .split('/')
    .find((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}

/** Sends one connector request to an app's API and reads the JSON answer (or the raw text). */
export async function sendAppRequest(apiBaseUrl: string, request: AppRequest, headers: Record<string, string>, options: SendOptions = {}): Promise<HttpAnswer> {
  const url = new URL(`${apiBaseUrl.replace(/\/$/, '')}${request.path}`);
  for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const response = await fetch(url, {
    method: request.method,
    // The action's own headers first, so neither Baton's nor the credential's can be replaced by them.
    headers: {
      ...request.headers,
      accept: 'application/json',
      'user-agent': 'baton',
      ...(request.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
      ...(request.method !== 'GET' && options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      ...headers,
    },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
  });
  const text = await response.text();
  return { status: response.status, body: parseJson(text) };
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
