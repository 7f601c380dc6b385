import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import type { AsymmetricSigningAlgorithm } from 'oidc-provider';

/** What oidc-provider enables for ID tokens and JWT access tokens unless configured otherwise. */
export const enabledAlgorithms: readonly string[] = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'];

/** The private members of a JWK (RFC 7518 §6), plus a private key's own usage flags (sign). */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'key_ops', 'ext'];

/** The private keys the identity provider signs with; the first one signs everything it issues. */
export interface SigningKeys {
  keys: JWK[];
  /** The JWS algorithm of the first key, used for ID tokens and JWT access tokens alike. */
  alg: AsymmetricSigningAlgorithm;
  kid: string;
}

/**
 * Takes the caller's private JWKs (so a test can hold the same key and sign tokens of its own) or makes
 * one ES256 key for this instance. Every key gets `use`, `alg` and a `kid`, because verifiers pick the
 * key by `kid` and the provider picks it by `alg`.
 */
export async function prepareSigningKeys(given: readonly JWK[] | undefined): Promise<SigningKeys> {
  const keys = given?.length ? given.map((key) => ({ ...key })) : [await generatedKey()];
  for (const key of keys) {
    if (key.d === undefined) throw new Error('The identity provider needs private signing keys (JWKs with "d").');
    key.alg ??= algorithmOf(key);
    if (!enabledAlgorithms.includes(key.alg)) throw new Error(`Signing key algorithm ${key.alg} is not one of ${enabledAlgorithms.join(', ')}.`);
    key.use ??= 'sig';
    key.kid ??= await calculateJwkThumbprint(key);
  }
  const [first] = keys;
  return { keys, alg: first!.alg as AsymmetricSigningAlgorithm, kid: first!.kid! };
}

/** The public halves of the signing keys, as `/idp/jwks` publishes them, for verifying in-process. */
export function publicJwks(signing: SigningKeys): JSONWebKeySet {
  return { keys: signing.keys.map((key) => Object.fromEntries(Object.entries(key).filter(([name]) => !privateMembers.includes(name))) as JWK) };
}

async function generatedKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), alg: 'ES256' };
}

/** The usual algorithm for a key that does not name one. */
function algorithmOf(key: JWK): string {
  if (key.kty === 'RSA') return 'RS256';
  if (key.kty === 'EC' && key.crv === 'P-256') return 'ES256';
  if (key.kty === 'OKP' && key.crv === 'Ed25519') return 'Ed25519';
  throw new Error(`Signing key ${key.kid ?? ''} has no "alg" and no default for kty ${key.kty} / crv ${key.crv}.`);
}
