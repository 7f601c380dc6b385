import { log } from '@temporalio/activity';

/** What the consent webhook receives: identifiers and Baton's own link, never a secret. */
export interface ConsentNotice {
  event: 'consent.required';
  /** The user who must connect the app (their id at the identity provider). */
  user: string;
  tenant: string;
  tool: string;
  runId: string;
  app: string;
  /** Baton's consent link; opening it asks the user to sign in, so it acts for nobody else. */
  connectUrl: string;
  /** The schedule that started the run. */
  scheduleId: string;
}

export type ConsentNotifier = (notice: ConsentNotice) => Promise<void>;

/**
 * `BATON_CONSENT_WEBHOOK_URL`: a scheduled run has no caller waiting for it, so when it pauses for
 * consent Baton POSTs a ConsentNotice there as JSON (besides the Runs page, which lists the run as
 * waiting). A failure is logged and otherwise ignored: the run waits all the same.
 */
export function consentWebhook(url: string | undefined, { timeoutMs = 5000 }: { timeoutMs?: number } = {}): ConsentNotifier | undefined {
  if (!url) return undefined;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new Error(`BATON_CONSENT_WEBHOOK_URL is not a URL: "${url}".`);
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new Error('BATON_CONSENT_WEBHOOK_URL must be an http(s) URL.');
  if (target.username || target.password) throw new Error('BATON_CONSENT_WEBHOOK_URL must not carry credentials.');
  return async (notice) => {
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'baton-consent-webhook' },
        body: JSON.stringify(notice),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) log.warn('The consent webhook refused a notification', { status: response.status, runId: notice.runId, app: notice.app });
    } catch (error) {
      log.warn('Could not reach the consent webhook', { error: error instanceof Error ? error.message : String(error), runId: notice.runId, app: notice.app });
    }
  };
}
