import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An unguessable credential such as a code or token; the prefix mirrors the real service's format. */
export function randomToken(prefix = '', bytes = 30): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/** The PKCE S256 transform (RFC 7636 §4.2): BASE64URL(SHA256(verifier)). */
export function pkceS256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Compares secrets without leaking their common prefix through timing (hashing equalises lengths). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}
