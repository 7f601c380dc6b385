import { importJWK, SignJWT, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { IDENTITY_AUDIENCE, IDENTITY_ALGORITHMS, IDENTITY_ISSUER, IDENTITY_TOKEN_TYPE } from './claims.ts';
import type { IdentityContext, RunBinding } from './context.ts';

export type IdentitySigner = (identity: IdentityContext, binding: RunBinding) => Promise<string>;

/**
 * Makes the gateway's signer. The token lives as long as a run may (paused runs resume hours later),
 * and is bound to the run's root workflow id so it is worthless on any other run.
 *
 * A schedule's token (binding with `schedule`) travels in the schedule's action and starts every run
 * the schedule makes, so it must outlive the 30 days: it lives `scheduleLifetime` (a year), and the
 * schedule itself ends before it does. That is safe because the token is worth nothing on its own:
 * the worker accepts it only on a run Temporal records as started by that schedule, and only while
 * Baton's database still holds the schedule for the same user and tool (deleting it withdraws it).
 */
export async function createIdentitySigner(privateJwk: JWK, { lifetime = '30d', scheduleLifetime = '366d' }: { lifetime?: string; scheduleLifetime?: string } = {}): Promise<IdentitySigner> {
  if (!privateJwk.kid) throw new Error('The identity signing key needs a "kid" so workers can pick the matching public key.');
  if (!privateJwk.alg || !IDENTITY_ALGORITHMS.includes(privateJwk.alg)) {
    throw new Error(`The identity signing key must use one of ${IDENTITY_ALGORITHMS.join(', ')} (got ${privateJwk.alg ?? 'none'}).`);
  }
  const { alg, kid } = privateJwk;
  const key = await importJWK(privateJwk, alg);
  return async (identity, binding) => {
    const { subject, ...ctx } = identity;
    const run = { root: binding.rootWorkflowId, tool: binding.tool, ...(binding.schedule === undefined ? {} : { schedule: binding.schedule }) };
    return new SignJWT({ ctx, run })
      .setProtectedHeader({ alg, kid, typ: IDENTITY_TOKEN_TYPE })
      .setSubject(subject)
      .setIssuer(IDENTITY_ISSUER)
      .setAudience(IDENTITY_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(binding.schedule === undefined ? lifetime : scheduleLifetime)
      .setJti(randomUUID())
      .sign(key);
  };
}
