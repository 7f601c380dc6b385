export interface ExpiringToken {
  token: string;
  expiresAt: number;
  /** How long the token was issued for, so the refresh margin can scale with it. */
  lifetimeMs: number;
}

/**
 * Tokens kept until shortly before they expire (`marginMs(token)` before), and fetched again once, however
 * many callers need one at that moment (single flight within the process).
 */
export class ExpiringTokenCache {
  readonly #cache = new Map<string, ExpiringToken>();
  readonly #inFlight = new Map<string, Promise<ExpiringToken>>();
  readonly #marginMs: (token: ExpiringToken) => number;

  constructor(marginMs: (token: ExpiringToken) => number) {
    this.#marginMs = marginMs;
  }

  async get(key: string, fetch: () => Promise<ExpiringToken>): Promise<string> {
    const cached = this.#cache.get(key);
    if (cached && Date.now() < cached.expiresAt - this.#marginMs(cached)) return cached.token;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = fetch().finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    const fresh = await pending;
    this.#cache.set(key, fresh);
    return fresh.token;
  }
}
