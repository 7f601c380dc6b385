export type InboundAuthErrorCode = 'invalid_token' | 'insufficient_scope' | 'auth_unavailable';

/** HTTP status per code: RFC 6750 §3.1 for the first two; 503 because an outage is not the caller's fault. */
const STATUS_BY_CODE: Record<InboundAuthErrorCode, 401 | 403 | 503> = {
  invalid_token: 401,
  insufficient_scope: 403,
  auth_unavailable: 503,
};

/**
 * A caller could not be authenticated (or lacks a scope). `code` is the RFC 6750 error code the gateway
 * puts in `WWW-Authenticate`; `message` tells a human what is wrong and what to do, and never contains
 * the token itself.
 */
export class InboundAuthError extends Error {
  override name = 'InboundAuthError';
  readonly code: InboundAuthErrorCode;
  readonly status: 401 | 403 | 503;
  /** For `insufficient_scope`: every scope the request needs, for the `scope` attribute of the challenge. */
  readonly requiredScopes: string[];

  constructor(code: InboundAuthErrorCode, message: string, options?: { cause?: unknown; requiredScopes?: string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = STATUS_BY_CODE[code];
    this.requiredScopes = options?.requiredScopes ?? [];
  }
}
