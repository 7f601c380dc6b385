import { errors } from 'jose';
import { InboundAuthError } from './inbound-auth-error.ts';

/** The key set could not be loaded (network, timeout, bad response): the token was never judged. */
export class KeySetUnavailable extends Error {
  override name = 'KeySetUnavailable';
}

/** What a failure message may mention besides the error itself. Nothing here is the token. */
export interface FailureContext {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  /** "at https://idp/jwks" or "in the configured key set". */
  keySource: string;
  /** Header values as the (unverified) token claims them; quoted, never trusted. */
  kid: unknown;
  alg: unknown;
}

const NEW_TOKEN = 'sign in again to get a new one.';

/**
 * Turns whatever `jwtVerify` threw into an InboundAuthError whose message says what is wrong with the
 * token and what to do. Unknown non-jose errors are rethrown untouched: they are bugs, not bad tokens,
 * and rethrowing still rejects the request.
 */
export function describeVerificationFailure(error: unknown, context: FailureContext): InboundAuthError {
  if (error instanceof InboundAuthError) return error;
  if (error instanceof KeySetUnavailable) {
    return new InboundAuthError(
      'auth_unavailable',
      `Cannot check bearer tokens right now: the identity provider's keys ${context.keySource} could not be fetched (${error.message}). Try again shortly.`,
      { cause: error.cause },
    );
  }
  const invalid = (message: string) => new InboundAuthError('invalid_token', message, { cause: error });

  if (error instanceof errors.JWTExpired) {
    return invalid(`The bearer token has expired${at(error.payload.exp)}; ${NEW_TOKEN}`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalid(describeClaimFailure(error, context));
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return invalid(
      `The bearer token is signed with algorithm ${quote(context.alg)}, which this server does not accept ` + `(accepted: ${context.algorithms.join(', ')}); use a token issued by ${context.issuer}.`,
    );
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return invalid(
      `The token's signing key ${quote(context.kid)} is not one the identity provider publishes ${context.keySource}; ` +
        `the token was not issued by ${context.issuer} or its key was retired — ${NEW_TOKEN}`,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid(`The bearer token's signature does not match the identity provider's key ${quote(context.kid)}; ` + `the token was altered or not issued by ${context.issuer}. Sign in again.`);
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return invalid(`The bearer token is not a well-formed signed JWT (${error.message}); send the access token exactly as the identity provider issued it.`);
  }
  if (error instanceof errors.JOSENotSupported) {
    return invalid(`The bearer token uses something this server does not support (${error.message}); use a token issued by ${context.issuer}.`);
  }
  if (error instanceof errors.JWKInvalid || error instanceof errors.JWKSInvalid) {
    // The provider publishes a key we cannot use: its problem, not the caller's, and it may be fixed soon.
    return new InboundAuthError('auth_unavailable', `Cannot check bearer tokens right now: the identity provider's key set ${context.keySource} is unusable (${error.message}). Try again shortly.`, {
      cause: error,
    });
  }
  if (error instanceof errors.JOSEError) {
    return invalid(`The bearer token could not be verified (${error.message}); ${NEW_TOKEN}`);
  }
  throw error;
}

function describeClaimFailure(error: InstanceType<typeof errors.JWTClaimValidationFailed>, context: FailureContext): string {
  const { claim, reason, payload } = error;
  if (reason === 'missing') {
    if (claim === 'exp') return 'The bearer token has no expiry (exp claim); this server only accepts tokens that expire — use an access token from the identity provider.';
    return `The bearer token lacks the required ${claim} claim; use an access token issued by ${context.issuer} for ${context.audience}.`;
  }
  if (reason === 'invalid') return `The bearer token's ${claim} claim is not a valid NumericDate; use an access token issued by ${context.issuer}.`;
  switch (claim) {
    case 'nbf':
      return `The bearer token is not valid yet${at(payload.nbf, 'until')}; check the clocks of this server and the identity provider, or try again later.`;
    case 'iss':
      return `The bearer token was issued by ${quote(payload.iss)}, but this server accepts tokens from ${context.issuer} only; sign in through that identity provider.`;
    case 'aud':
      return (
        `The bearer token was issued for ${describeAudience(payload.aud)}, not for this server (${context.audience}); ` +
        'request a token for this resource (OAuth `resource` parameter) and try again.'
      );
    default:
      return `The bearer token's ${claim} claim is not acceptable (${error.message}); ${NEW_TOKEN}`;
  }
}

function describeAudience(aud: unknown): string {
  if (Array.isArray(aud)) return aud.length === 0 ? 'no audience' : aud.map(quote).join(', ');
  return quote(aud);
}

function at(epochSeconds: unknown, preposition = 'at'): string {
  return typeof epochSeconds === 'number' && Number.isFinite(epochSeconds) ? ` (${preposition} ${new Date(epochSeconds * 1000).toISOString()})` : '';
}

/** Token-supplied values are quoted and cut short so a hostile token cannot flood logs or forge text. */
export function quote(value: unknown): string {
  if (value === undefined) return '(none)';
  // A claim of any JSON type, shown the way JavaScript prints it (an array as its items, joined by commas).
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  const text = JSON.stringify(typeof value === 'string' ? value : String(value));
  return text.length > 100 ? `${text.slice(0, 97)}…"` : text;
}
