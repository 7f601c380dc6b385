/**
 * Activity-side identity: the interceptor verifies the run's signed identity before any activity
 * body runs and keeps the result here for the duration of that activity.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { AsyncLocalStorage } from 'node:async_hooks';
import { IDENTITY_HEADER, RUN_PATH_HEADER, type IdentityContext, type VerifiedIdentity } from '../core/identity/context.ts';
import { IdentityRejectedError } from '../core/identity/errors.ts';
import type { IdentityVerifier } from '../core/identity/verifier.ts';
import { FailureType } from './contract.ts';
import type { ScheduledRunCheck } from './scheduled-runs.ts';

export interface Caller extends VerifiedIdentity {
  /** Workflow ids from the root run down to the workflow that scheduled this activity. */
  runPath: string[];
}

const callers = new AsyncLocalStorage<Caller>();

export function currentCaller(): Caller {
  const caller = callers.getStore();
  if (!caller) throw new Error('currentCaller() is only available inside a Baton activity.');
  return caller;
}

/** The verified identity of the person the current activity acts for. */
export function currentIdentity(): Readonly<IdentityContext> {
  return currentCaller().identity;
}

/**
 * Every activity runs only after the signature, the run binding and the run path check out; a
 * failure is final (retrying cannot fix a forged identity) and no activity code — so no vault read —
 * runs at all.
 */
/** Activities that act as nobody, so need no caller (see execute below). */
const ACTING_AS_NOBODY: ReadonlySet<string> = new Set(['verifyWorkflowMessage']);

export function identityInterceptor(verify: IdentityVerifier, { scheduledRuns }: { scheduledRuns?: ScheduledRunCheck } = {}): ActivityInterceptorsFactory {
  return (context) => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
        // Checking the gateway's signature on a signal acts as nobody and reads nothing of the user's: it must work
        // even for a run whose identity has been withdrawn meanwhile (that run's next real step is refused instead).
        if (ACTING_AS_NOBODY.has(context.info.activityType)) return next(input);
        let caller: Caller;
        try {
          caller = await verifyCaller(input.headers, context, verify, scheduledRuns);
        } catch (error) {
          if (!(error instanceof IdentityRejectedError)) throw error;
          context.log.warn('Refused an activity with a bad identity', { reason: error.message, workflowId: context.info.workflowExecution?.workflowId });
          throw ApplicationFailure.nonRetryable(error.message, FailureType.identityRejected);
        }
        return callers.run(caller, () => next(input));
      },
    },
  });
}

async function verifyCaller(headers: Headers, context: Context, verify: IdentityVerifier, scheduledRuns: ScheduledRunCheck | undefined): Promise<Caller> {
  const token = readHeader(headers, IDENTITY_HEADER);
  const verified = await verify(typeof token === 'string' ? token : undefined);
  const runPath = readHeader(headers, RUN_PATH_HEADER);
  if (!Array.isArray(runPath) || runPath.length === 0 || !runPath.every((id) => typeof id === 'string')) {
    throw new IdentityRejectedError('The run path header is missing or malformed.');
  }
  if (runPath.at(-1) !== context.info.workflowExecution?.workflowId) {
    throw new IdentityRejectedError('The run path does not end at the workflow that scheduled this activity.');
  }
  if (verified.binding.schedule !== undefined) {
    // A schedule's identity: accepted only on a run that schedule started (see scheduled-runs.ts); from
    // here on the binding names the run itself, so the audit trail and consent requests name the run.
    if (!scheduledRuns) throw new IdentityRejectedError('The run carries a schedule identity, which this worker cannot check.');
    await scheduledRuns(verified, runPath as string[], context);
    return { identity: verified.identity, binding: { ...verified.binding, rootWorkflowId: runPath[0] as string }, runPath: runPath as string[] };
  }
  // The path's root must be the run the identity was signed for, and its end the workflow that
  // scheduled this activity (which Temporal itself reports), so a copied identity is useless elsewhere.
  if (runPath[0] !== verified.binding.rootWorkflowId) {
    throw new IdentityRejectedError(`The identity was signed for run "${verified.binding.rootWorkflowId}" but is used by run "${runPath[0]}".`);
  }
  return { ...verified, runPath: runPath as string[] };
}

function readHeader(headers: Headers, name: string): unknown {
  const payload = headers[name];
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}
