/**
 * Why talking to an upstream MCP server failed, one class per layer with stable codes (as jose's
 * util/errors.ts). Messages say what happened and what to do; they never contain a token.
 */
export type UpstreamErrorCode =
  | 'discovery_failed'
  | 'insecure_endpoint'
  | 'foreign_endpoint'
  | 'registration_refused'
  | 'authorization_failed'
  | 'unreachable'
  | 'timeout'
  | 'malformed_answer'
  | 'auth_required'
  | 'input_required'
  | 'result_too_large'
  | 'unknown_tool'
  | 'invalid_arguments';

export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly code: UpstreamErrorCode;
  /** Whether trying the same call again later may succeed (network trouble, a timeout). */
  readonly retryable: boolean;

  constructor(code: UpstreamErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
