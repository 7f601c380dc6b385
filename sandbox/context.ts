import type { DelayRules } from './delays.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { IssuedSecrets } from './issued-secrets.ts';
import type { RequestLog } from './request-log.ts';

/**
 * The state one sandbox instance shares between its apps. Everything lives here or in objects created
 * per instance, never in module scope, so two sandboxes in one process stay independent.
 */
export interface SandboxContext {
  /** http://127.0.0.1:PORT without a trailing slash; known once the server listens, before any request. */
  publicUrl(): string;
  settings: { accessTokenTtlSeconds: number };
  requestLog: RequestLog;
  idempotency: IdempotencyStore;
  delays: DelayRules;
  secrets: IssuedSecrets;
}
