import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal arguments give equal text whatever their order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Identifies "the same tool call" across retries: a digest of the validated arguments. */
export const argumentsDigest = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('base64url');
