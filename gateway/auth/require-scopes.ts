import { InboundAuthError } from './inbound-auth-error.ts';
import type { Principal } from './principal.ts';

/**
 * Throws `insufficient_scope` (HTTP 403) naming the scopes the caller's token lacks, so the gateway can
 * answer with a step-up challenge (`WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`)
 * and the client can ask the user for exactly those.
 */
export function requireScopes(principal: Principal, required: string[]): void {
  const granted = new Set(principal.scopes);
  const missing = required.filter((scope) => !granted.has(scope));
  if (missing.length === 0) return;
  const has = principal.scopes.length > 0 ? principal.scopes.join(' ') : 'none';
  throw new InboundAuthError(
    'insufficient_scope',
    `The bearer token lacks the scope${missing.length === 1 ? '' : 's'} ${missing.join(' ')} (it has: ${has}); ` + 'sign in again and grant them to continue.',
    { requiredScopes: [...new Set(required)] },
  );
}
