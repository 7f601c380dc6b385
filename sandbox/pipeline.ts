import express, { type RequestHandler } from 'express';
import type { SandboxContext } from './context.ts';
import { logRequests, type AppName } from './request-log.ts';

/**
 * The common front of every endpoint a test may want to observe (the three APIs and the token and
 * revocation endpoints): log it, parse a JSON or form body, then apply any injected delay.
 * `base` is where the sandbox mounts the real service's root, e.g. "/github/api" for api.github.com.
 */
export function observedEndpoint(ctx: SandboxContext, app: AppName, base: string): RequestHandler[] {
  return [logRequests(ctx.requestLog, app, base), express.json(), express.urlencoded({ extended: false }), ctx.delays.middleware(app, base)];
}

/** Request parameters as flat strings, from the query and a JSON or form body alike. */
export function stringParams(source: unknown): Record<string, string> {
  const params: Record<string, string> = {};
  if (source && typeof source === 'object') {
    for (const [name, value] of Object.entries(source)) {
      if (typeof value === 'string') params[name] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') params[name] = String(value);
    }
  }
  return params;
}
