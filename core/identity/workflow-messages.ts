import { createHash, randomUUID } from 'node:crypto';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { z } from 'zod';
import { canonicalJson } from '../canonical-json.ts';
import { IDENTITY_ALGORITHMS, IDENTITY_ISSUER } from './claims.ts';
export { MESSAGE_HEADER } from './context.ts';
import { IdentityRejectedError } from './errors.ts';

/**
 * Signals the gateway sends a run (a user's consent decision, their answers to an upstream's questions) are
 * signed, each on its own: Temporal accepts a signal from anyone with access to the namespace, and copying
 * the run's identity header from its history is no proof of who sent it. The signature covers the target
 * workflow, the signal's name and its arguments, and lives minutes; the workflow takes each token once.
 *
 * @example
 * ```ts
 * const sign = await createWorkflowMessageSigner(privateJwk);
 * const token = await sign({ workflowId: 'run-1', name: 'baton.consentDecision', args: [{ app: 'github', decision: 'granted', consentIds: ['c-1'] }] });
 * const { id } = await createWorkflowMessageVerifier(publicKeys)(token, { workflowId: 'run-1', name: 'baton.consentDecision', args: [...] });
 * ```
 */
export interface WorkflowMessage {
  workflowId: string;
  name: string;
  args: unknown[];
}

export type WorkflowMessageSigner = (message: WorkflowMessage) => Promise<string>;
/** Resolves to the token's id (each is taken once); rejects with IdentityRejectedError. */
export type WorkflowMessageVerifier = (token: string | undefined, message: WorkflowMessage) => Promise<{ id: string }>;

const MESSAGE_AUDIENCE = 'urn:baton:workflow';
const MESSAGE_TOKEN_TYPE = 'baton-message+jwt';
/** Long enough for Temporal to be briefly away while the client retries; short enough that a copied one is stale. */
const MESSAGE_LIFETIME = '10m';

const messageClaims = z.object({ wf: z.string(), msg: z.string(), digest: z.string(), jti: z.string().min(1) });

const digestOf = (args: unknown[]) => createHash('sha256').update(canonicalJson(args)).digest('base64url');

export async function createWorkflowMessageSigner(privateJwk: JWK): Promise<WorkflowMessageSigner> {
  const { alg, kid } = privateJwk;
  if (!alg || !IDENTITY_ALGORITHMS.includes(alg)) throw new Error(`The identity signing key must use one of ${IDENTITY_ALGORITHMS.join(', ')} (got ${alg ?? 'none'}).`);
  const key = await importJWK(privateJwk, alg);
  return (message) =>
    new SignJWT({ wf: message.workflowId, msg: message.name, digest: digestOf(message.args) })
      .setProtectedHeader({ alg, kid, typ: MESSAGE_TOKEN_TYPE })
      .setIssuer(IDENTITY_ISSUER)
      .setAudience(MESSAGE_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(MESSAGE_LIFETIME)
      .setJti(randomUUID())
      .sign(key);
}

export function createWorkflowMessageVerifier(publicKeys: JSONWebKeySet): WorkflowMessageVerifier {
  const keySet = createLocalJWKSet(publicKeys);
  return async (token, message) => {
    if (!token) throw new IdentityRejectedError(`The "${message.name}" signal carries no signature; only the Baton gateway sends it.`);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keySet, { algorithms: IDENTITY_ALGORITHMS, issuer: IDENTITY_ISSUER, audience: MESSAGE_AUDIENCE, typ: MESSAGE_TOKEN_TYPE, clockTolerance: 30 }));
    } catch (error) {
      throw new IdentityRejectedError(`The "${message.name}" signal's signature was rejected: ${error instanceof Error ? error.message : String(error)}.`);
    }
    const claims = messageClaims.safeParse(payload);
    if (!claims.success) throw new IdentityRejectedError(`The "${message.name}" signal's signature is malformed.`);
    const { wf, msg, digest, jti } = claims.data;
    if (wf !== message.workflowId || msg !== message.name) throw new IdentityRejectedError(`The signature is for "${msg}" to workflow "${wf}", not for "${message.name}" to "${message.workflowId}".`);
    if (digest !== digestOf(message.args)) throw new IdentityRejectedError(`The "${message.name}" signal's arguments are not the ones signed.`);
    return { id: jti };
  };
}
