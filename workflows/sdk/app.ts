import { ActivityFailure, ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { FailureType, type ConnectionRequiredDetails } from '../../activities/contract.ts';
import { appActivities } from './activities.ts';
import { waitForConsent } from './consent.ts';
import { nextSequence, runState } from './run-state.ts';

export interface AppHandle {
  /** Calls one action of the app as the run's caller; pauses for consent when the user must connect first. */
  call<Result = unknown>(action: string, input: Record<string, unknown>): Promise<Result>;
}

/** `app('github').call('pulls.get', {...})`, usable in any tool or callable at any depth. */
export function app(appId: string): AppHandle {
  const definition = runState.definition;
  if (definition && !definition.apps.includes(appId)) {
    throw ApplicationFailure.nonRetryable(`"${definition.name}" calls app "${appId}" but does not declare it in \`apps\`; declare it so consent pre-flight knows about it.`, FailureType.undeclaredApp);
  }
  return { call: async (action, input) => (await callWithConsent((stepKey) => appActivities.callApp({ app: appId, action, input, stepKey }))) as never };
}

/**
 * Runs one step that reaches an app or an upstream MCP server; when the user must connect it first, the
 * run pauses for consent and the step runs again afterwards, under the same step key.
 */
export async function callWithConsent<Result>(step: (stepKey: string) => Promise<Result>): Promise<Result> {
  // One key per logical step: a retry after a crash, or the retry after consent, reuses it.
  const stepKey = `${workflowInfo().workflowId}#${nextSequence()}`;
  for (;;) {
    try {
      return await step(stepKey);
    } catch (error) {
      const needed = connectionRequired(error);
      if (!needed) throw error;
      await waitForConsent(needed);
    }
  }
}

function connectionRequired(error: unknown): ConnectionRequiredDetails | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return undefined;
  if (error.cause.type !== FailureType.connectionRequired) return undefined;
  return error.cause.details?.[0] as ConnectionRequiredDetails;
}
