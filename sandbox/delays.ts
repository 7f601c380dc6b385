import type { RequestHandler } from 'express';
import { pathWithin, type AppName } from './request-log.ts';

interface DelayRule {
  app: AppName;
  pathPrefix: string;
  ms: number;
  remaining: number;
}

/**
 * Injected slowness, so a test can kill a caller while its request is in flight. The wait happens before
 * the request is processed and the effect is applied afterwards regardless of the client having hung up,
 * exactly what a real server does with a request it already received.
 */
export class DelayRules {
  #rules: DelayRule[] = [];

  add(rule: { app: AppName; pathPrefix: string; ms: number; times: number }): void {
    if (rule.times > 0) this.#rules.push({ app: rule.app, pathPrefix: rule.pathPrefix, ms: rule.ms, remaining: rule.times });
  }

  /** The rules not used up yet: a rule that is gone has held every request it was set for. */
  pending(): { app: AppName; pathPrefix: string; remaining: number }[] {
    return this.#rules.map(({ app, pathPrefix, remaining }) => ({ app, pathPrefix, remaining }));
  }

  /** Uses up one occurrence of the first matching rule and returns its delay (0 when none matches). */
  take(app: AppName, path: string): number {
    const rule = this.#rules.find((candidate) => candidate.app === app && path.startsWith(candidate.pathPrefix));
    if (!rule) return 0;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.#rules.splice(this.#rules.indexOf(rule), 1);
    return rule.ms;
  }

  middleware(app: AppName, base: string): RequestHandler {
    return async (req, _res, next) => {
      const ms = this.take(app, pathWithin(req, base));
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      next();
    };
  }
}
