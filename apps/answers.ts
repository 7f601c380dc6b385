import type { AppAnswer } from './types.ts';

/**
 * Reads a REST API's answer the way GitHub and Jira report errors: 2xx is success, 401 means the
 * credential itself was refused, 429 and 5xx are worth retrying, anything else is a final refusal.
 */
export function readRestAnswer<Result>(appName: string, status: number, body: unknown, toResult: (body: unknown) => Result, objectRef?: (result: Result) => string): AppAnswer<Result> {
  if (status >= 200 && status < 300) {
    const result = toResult(body);
    return { kind: 'ok', result, objectRef: objectRef?.(result) };
  }
  const detail = describeErrorBody(body);
  if (status === 401) return { kind: 'credential_rejected', message: `${appName} refused the credential (401${detail})` };
  const retryable = status === 429 || status >= 500;
  return { kind: 'failed', message: `${appName} answered ${status}${detail}`, retryable };
}

function describeErrorBody(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const record = body as Record<string, unknown>;
  if (typeof record.message === 'string') return `: ${record.message}`;
  const messages = [
    ...(Array.isArray(record.errorMessages) ? record.errorMessages : []),
    ...Object.entries((record.errors as Record<string, unknown>) ?? {}).map(([field, why]) => `${field}: ${String(why)}`),
  ];
  return messages.length ? `: ${messages.join('; ')}` : '';
}

/** The answer, with the object the call created named from `field` of the result, when there is one. */
export function withObjectRef<Result>(read: AppAnswer<Result>, field: string | undefined): AppAnswer<Result> {
  if (!field || read.kind !== 'ok') return read;
  const ref = (read.result as Record<string, unknown> | null)?.[field];
  return typeof ref === 'string' || typeof ref === 'number' ? { ...read, objectRef: String(ref) } : read;
}
