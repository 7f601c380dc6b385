import type { ConsentStore } from '../../core/consent/consent-store.ts';
import type { Logger } from 'pino';

/**
 * Expires consent requests nobody finished within `ttlMs` (BATON_CONSENT_REQUEST_TTL_SECONDS), now and then
 * every `min(ttlMs, 1 minute)`: a run settles its own requests when it stops waiting, but one that ended
 * without doing so (terminated by an operator, say) or a pre-flight request it never reached would otherwise
 * stay pending for ever, offered as a link on the user's pages. Every gateway sweeps; the update is idempotent.
 *
 * @example
 * ```ts
 * const sweeper = expireStaleConsentRequests({ consents: stores.consents, ttlMs: 24 * 3600_000, log });
 * // … at shutdown:
 * sweeper.stop();
 * ```
 */
export function expireStaleConsentRequests({ consents, ttlMs, log }: { consents: ConsentStore; ttlMs: number; log: Logger }): { stop(): void } {
  const sweep = () =>
    consents.expireStale(Date.now() - ttlMs).then(
      (expired) => void (expired > 0 && log.info({ expired, ttlSeconds: ttlMs / 1000 }, 'expired consent requests nobody finished')),
      (error: unknown) => log.warn({ err: error }, 'could not expire stale consent requests (tried again later)'),
    );
  void sweep();
  const timer = setInterval(() => void sweep(), Math.min(ttlMs, 60_000)).unref();
  return { stop: () => clearInterval(timer) };
}
