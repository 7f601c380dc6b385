import { Context } from '@temporalio/activity';
import type { AppRequest } from '../apps/index.ts';
import { sendAppRequest, type HttpAnswer } from '../core/http/app-request.ts';

const HEARTBEAT_EVERY_MS = 2_000;

/**
 * Sends an app request from inside an activity: heartbeats while it waits, so a worker that dies
 * mid-call is noticed within the heartbeat timeout, and stops when Temporal cancels the activity.
 */
export async function sendFromActivity(apiBaseUrl: string, request: AppRequest, headers: Record<string, string>, stepKey: string): Promise<HttpAnswer> {
  const context = Context.current();
  const heartbeat = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await sendAppRequest(apiBaseUrl, request, headers, { idempotencyKey: stepKey, signal: context.cancellationSignal });
  } finally {
    clearInterval(heartbeat);
  }
}
