import { approveConsentOverHttp, CookieKeepingClient } from '../sandbox/browserless-consent.ts';
import type { DemoUserName, GatewayStack } from '../test/support/gateway-stack.ts';

/** Wall-clock instants (epoch ms, sub-millisecond) around Baton's `/oauth/callback/{app}` request. */
export interface CallbackTiming {
  sentAt: number;
  returnedAt: number;
  status: number;
}

/** Epoch milliseconds with sub-millisecond precision, comparable with Temporal's event times on this machine. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/**
 * The same walk as GatewayStack.consentInBrowser (Baton link → identity provider → app consent → Baton),
 * but timing the last hop itself: the callback on which Baton stores the connection and signals the
 * paused run. The response is read in full, so `returnedAt` is when the browser has the final page.
 */
export async function consentTimingCallback(gs: GatewayStack, link: string, user: DemoUserName, browser: CookieKeepingClient): Promise<CallbackTiming> {
  const credentials = { username: user, password: user };
  let target = new URL(link);
  for (let hop = 0; hop < 6; hop += 1) {
    const isCallback = target.origin === gs.url && target.pathname.startsWith('/oauth/callback/');
    const sentAt = epochNow();
    const response = await browser.fetch(target);
    const location = response.headers.get('location');
    if (!location) {
      await response.text();
      const returnedAt = epochNow();
      if (!isCallback) throw new Error(`consent for ${user} ended at ${target.pathname} (${response.status}), not at Baton's callback`);
      if (response.status !== 200) throw new Error(`Baton's callback answered ${response.status}`);
      return { sentAt, returnedAt, status: response.status };
    }
    const next = new URL(location, target);
    if (next.origin === gs.url) {
      target = next;
      continue;
    }
    // Off to the identity provider or the app: sign in and approve; it hands back a URL on Baton.
    target = await approveConsentOverHttp(next.href, credentials, 'approve', browser);
  }
  throw new Error(`Too many redirects following ${link}`);
}
