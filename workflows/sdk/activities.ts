import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BatonActivities } from '../../activities/contract.ts';

/**
 * App calls heartbeat while they wait on the app, so a worker that dies mid-call is noticed within
 * the heartbeat timeout and the step is retried elsewhere with the same step key.
 */
export const appActivities = proxyActivities<Pick<BatonActivities, 'callApp' | 'callMcpTool'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
});

export const bookkeepingActivities = proxyActivities<Pick<BatonActivities, 'recordConsentRequest' | 'settleConsentRequest'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 10 },
});

/** The run's own start and end in the audit trail: local, so they cost no extra round trip through the server. */
export const runRecordActivities = proxyLocalActivities<Pick<BatonActivities, 'recordRunEvent'>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 20 },
});

export const identityActivities = proxyLocalActivities<Pick<BatonActivities, 'verifyRunIdentity'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

/** The check of a signal's signature, before the workflow acts on it (workflows/interceptors.ts). */
export const messageActivities = proxyLocalActivities<Pick<BatonActivities, 'verifyWorkflowMessage'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});
