import { decodeJwt } from 'jose';
import { InboundAuthError } from './inbound-auth-error.ts';
import type { AccessTokenVerifier } from './access-token-verifier.ts';

/**
 * Several identity providers at once: a token goes to the verifier of the issuer it names (read before
 * verification only to pick the verifier, which then checks everything, `iss` included). A token from
 * any other issuer is refused, saying which issuers are accepted.
 */
export function verifierPerIssuer(verifiers: ReadonlyMap<string, AccessTokenVerifier>): AccessTokenVerifier {
  const [fallback] = verifiers.values();
  if (!fallback) throw new TypeError('At least one identity provider is needed.');
  return {
    async verify(token) {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        return fallback.verify(token); // malformed: the verifier says exactly what is wrong
      }
      const verifier = typeof issuer === 'string' ? verifiers.get(issuer) : undefined;
      if (verifier) return verifier.verify(token);
      throw new InboundAuthError(
        'invalid_token',
        // `iss` as the token has it, whatever its JSON type.
        // eslint-disable-next-line @typescript-eslint/no-base-to-string
        `The bearer token was issued by ${JSON.stringify(String(issuer ?? '(no issuer)')).slice(0, 120)}, but this server accepts tokens from ${[...verifiers.keys()].join(', ')} only; sign in through one of them.`,
      );
    },
    async checkKeys() {
      await Promise.all([...verifiers.values()].map((verifier) => verifier.checkKeys()));
    },
  };
}
