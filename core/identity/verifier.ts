import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import { IDENTITY_AUDIENCE, IDENTITY_ALGORITHMS, IDENTITY_ISSUER, IDENTITY_TOKEN_TYPE, identityClaims } from './claims.ts';
import type { VerifiedIdentity } from './context.ts';
import { IdentityRejectedError } from './errors.ts';

export type IdentityVerifier = (token: string | undefined) => Promise<VerifiedIdentity>;

/** Makes the worker's verifier from the gateway's public keys. Every failure is an IdentityRejectedError. */
export function createIdentityVerifier(publicKeys: JSONWebKeySet): IdentityVerifier {
  const keySet = createLocalJWKSet(publicKeys);
  return async (token) => {
    if (!token) throw new IdentityRejectedError('No signed identity travelled with this run; only runs started through the Baton gateway may call apps.');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        algorithms: IDENTITY_ALGORITHMS,
        issuer: IDENTITY_ISSUER,
        audience: IDENTITY_AUDIENCE,
        typ: IDENTITY_TOKEN_TYPE,
        clockTolerance: 30,
      }));
    } catch (error) {
      throw new IdentityRejectedError(`The run's identity was rejected: ${describeJoseError(error, token)}.`);
    }
    const claims = identityClaims.safeParse(payload);
    if (!claims.success) throw new IdentityRejectedError(`The run's identity is signed but malformed: ${claims.error.issues[0]?.message ?? 'bad claims'}.`);
    const { sub, ctx, run } = claims.data;
    return { identity: { subject: sub, ...ctx }, binding: { rootWorkflowId: run.root, tool: run.tool, ...(run.schedule === undefined ? {} : { schedule: run.schedule }) } };
  };
}

/** ` (key id "…": retired, or never in BATON_IDENTITY_JWKS)` — a retired key's runs are told which key it was. */
function kidOf(token: string): string {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? ` (key id ${JSON.stringify(kid.slice(0, 100))}: retired, or never in BATON_IDENTITY_JWKS)` : '';
  } catch {
    return '';
  }
}

function describeJoseError(error: unknown, token: string): string {
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not match (forged or tampered)';
  if (error instanceof errors.JWKSNoMatchingKey) return `it was signed by a key this worker does not trust${kidOf(token)}`;
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'its signing algorithm is not allowed';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim "${error.claim}" is invalid (${error.reason})`;
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
