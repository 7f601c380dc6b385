import { ApplicationFailure } from '@temporalio/workflow';
import type { IdentityContext } from '../../core/identity/context.ts';
import { runState } from './run-state.ts';

/**
 * The caller's identity, verified by the worker when this workflow started. A deep-frozen copy:
 * workflow code can read it but cannot change what children and activities receive, which is the
 * signed header, forwarded by the interceptor.
 */
export function currentIdentity(): Readonly<IdentityContext> {
  const verified = runState.verified;
  if (!verified) throw ApplicationFailure.nonRetryable('The run identity is not verified yet.', 'IdentityRejected');
  return deepFreeze(JSON.parse(JSON.stringify(verified.identity)) as IdentityContext);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
