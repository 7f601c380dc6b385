import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens for Baton's own forms: an HMAC of the browser session's binding and what the form is for
 * (a consent request, an account action on an app). Nothing is stored; a token is valid only in the
 * session it was made for and only for that one purpose, so a page of another site cannot forge one.
 */
export class CsrfTokens {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    this.#key = key;
  }

  tokenFor(sessionBinding: string, purpose: string): string {
    return createHmac('sha256', this.#key).update(`baton.csrf\0${sessionBinding}\0${purpose}`).digest('base64url');
  }

  /** Constant-time; false for anything that is not exactly the token (missing, repeated, another session's). */
  matches(sessionBinding: string, purpose: string, given: unknown): boolean {
    const expected = Buffer.from(this.tokenFor(sessionBinding, purpose));
    const actual = Buffer.from(typeof given === 'string' ? given : '');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
