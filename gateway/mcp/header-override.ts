import { z } from 'zod';

/** The request header a client uses to send its own headers for particular apps (token forwarding). */
export const HEADER_OVERRIDE = 'x-baton-forward-headers';

/** Never forwarded, whatever the configuration says: they belong to the client's session with Baton. */
const ALWAYS_RESTRICTED = ['cookie', 'proxy-authorization', 'host', 'content-length', 'transfer-encoding', 'connection'];

const overrideShape = z.record(z.string(), z.record(z.string(), z.string().max(8192)));

export class HeaderOverrideError extends Error {
  override name = 'HeaderOverrideError';
}

const patternToRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .toLowerCase()
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );

/**
 * Reads `X-Baton-Forward-Headers: {"app": {"Header": "value"}}` and keeps only what may be forwarded:
 * apps that allow a per-call override (`allowHeaderOverride`) and are used by this tool, and headers
 * that match no restricted pattern (`restrictedHeaders`, plus cookies and hop-by-hop headers, always).
 */
export function parseHeaderOverride(raw: string | null, options: { allowedApps: ReadonlySet<string>; restrictedHeaders: readonly string[] }): Record<string, Record<string, string>> | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HeaderOverrideError(`X-Baton-Forward-Headers is not valid JSON; send {"<app>": {"<header>": "<value>"}}.`);
  }
  const shaped = overrideShape.safeParse(parsed);
  if (!shaped.success) throw new HeaderOverrideError(`X-Baton-Forward-Headers must be a JSON object of apps, each an object of header names to string values.`);
  const restricted = [...ALWAYS_RESTRICTED, ...options.restrictedHeaders].map(patternToRegExp);
  const kept: Record<string, Record<string, string>> = {};
  for (const [app, headers] of Object.entries(shaped.data)) {
    if (!options.allowedApps.has(app)) continue;
    const allowed = Object.entries(headers).filter(([name]) => !restricted.some((pattern) => pattern.test(name.toLowerCase())));
    if (allowed.length) kept[app] = Object.fromEntries(allowed.map(([name, value]) => [name.toLowerCase(), value]));
  }
  return Object.keys(kept).length ? kept : undefined;
}
