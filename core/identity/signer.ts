import { importJWK, SignJWT, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { IDENTITY_AUDIENCE, IDENTITY_ALGORITHMS, IDENTITY_ISSUER, IDENTITY_TOKEN_TYPE } from './claims.ts';
import type { IdentityContext, RunBinding } from './context.ts';

export type IdentitySigner = (identity: IdentityContext, binding: RunBinding) => Promise<string>;

/**
 * Makes the gateway's signer. The token lives as long as a run may (paused runs resume hours later),
 * and is bound to the run's root workflow id so it is worthless on any other run.
 */
export async function createIdentitySigner(privateJwk: JWK, { lifetime = '30d' }: { lifetime?: string } = {}): Promise<IdentitySigner> {
  if (!privateJwk.kid) throw new Error('The identity signing key needs a "kid" so workers can pick the matching public key.');
  if (!privateJwk.alg || !IDENTITY_ALGORITHMS.includes(privateJwk.alg)) {
    throw new Error(`The identity signing key must use one of ${IDENTITY_ALGORITHMS.join(', ')} (got ${privateJwk.alg ?? 'none'}).`);
  }
  const { alg, kid } = privateJwk;
  const key = await importJWK(privateJwk, alg);
  return async (identity, binding) => {
    const { subject, ...ctx } = identity;
    return new SignJWT({ ctx, run: { root: binding.rootWorkflowId, tool: binding.tool } })
      .setProtectedHeader({ alg, kid, typ: IDENTITY_TOKEN_TYPE })
      .setSubject(subject)
      .setIssuer(IDENTITY_ISSUER)
      .setAudience(IDENTITY_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(lifetime)
      .setJti(randomUUID())
      .sign(key);
  };
}
