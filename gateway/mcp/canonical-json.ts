import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/canonical-json.ts';

/** Identifies "the same tool call" across retries: a digest of the validated arguments. */
export const argumentsDigest = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('base64url');
