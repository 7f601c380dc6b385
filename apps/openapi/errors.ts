/**
 * Why an app declared from an OpenAPI document cannot be used, one class with stable codes (as jose's
 * util/errors.ts). Messages name the document and the JSON pointer of what is wrong, and what to do.
 */
export type OpenApiErrorCode = 'unreadable' | 'invalid' | 'remote_ref' | 'duplicate_operation' | 'unsupported_operation' | 'unknown_operation' | 'no_base_url';

export class OpenApiError extends Error {
  override name = 'OpenApiError';
  readonly code: OpenApiErrorCode;

  constructor(code: OpenApiErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }
}

/** A JSON pointer to a path item's operation (`/` in the path escaped as `~1`, per RFC 6901). */
export function operationPointer(path: string, method: string): string {
  return `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}`;
}
