/**
 * Webpack loader applied to zod's files in the workflow bundle. zod resets `lastIndex` on a regular
 * expression before testing with it; in a worker, zod's own expressions are shared by every workflow and
 * frozen (workflows/shared-modules.ts), and writing to a frozen expression throws even when the value does
 * not change. Writing only when the value differs is the same reset: a frozen expression is never global
 * or sticky (zod's are not), so its `lastIndex` stays 0, while a builder's own `/g` pattern still gets reset.
 *
 * @example
 * zodFrozenRegexLoader('def.pattern.lastIndex = 0;');
 * // → 'if (def.pattern.lastIndex !== 0) def.pattern.lastIndex = 0;'
 */
export default function zodFrozenRegexLoader(source: string): string {
  return source.replace(/([\w$.]+)\.lastIndex = 0;/g, 'if ($1.lastIndex !== 0) $1.lastIndex = 0;');
}
