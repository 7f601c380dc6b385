import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface IdentityKeys {
  /** Present where identities are signed (the gateway); absent on workers. */
  privateJwk?: JWK;
  publicKeys: JSONWebKeySet;
}

/**
 * Loads the identity keys. Production: `BATON_IDENTITY_PRIVATE_JWK` (gateway) and `BATON_IDENTITY_JWKS`
 * (workers; may list several keys during rotation). Development: one Ed25519 key kept in `devKeyFile`,
 * made on first use, so `npm start` needs no setup.
 */
export async function loadIdentityKeys({ env = process.env, devKeyFile }: { env?: NodeJS.ProcessEnv; devKeyFile: string }): Promise<IdentityKeys> {
  const privateJwk = env.BATON_IDENTITY_PRIVATE_JWK ? parseJson<JWK>('BATON_IDENTITY_PRIVATE_JWK', env.BATON_IDENTITY_PRIVATE_JWK) : undefined;
  const publicKeys = env.BATON_IDENTITY_JWKS ? parseJson<JSONWebKeySet>('BATON_IDENTITY_JWKS', env.BATON_IDENTITY_JWKS) : undefined;
  if (privateJwk || publicKeys) {
    if (publicKeys) return { privateJwk, publicKeys };
    return { privateJwk, publicKeys: { keys: [toPublicJwk(privateJwk as JWK)] } };
  }
  const devKey = existsSync(devKeyFile) ? parseJson<JWK>(devKeyFile, readFileSync(devKeyFile, 'utf8')) : await writeDevKey(devKeyFile);
  return { privateJwk: devKey, publicKeys: { keys: [toPublicJwk(devKey)] } };
}

export async function generateIdentityKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'EdDSA', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

export function toPublicJwk({ d: _private, ...publicPart }: JWK): JWK {
  return publicPart;
}

async function writeDevKey(file: string): Promise<JWK> {
  const jwk = await generateIdentityKey();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

function parseJson<T>(source: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${source} is not valid JSON; it must hold a JWK (or for BATON_IDENTITY_JWKS a JWK set {"keys": [...]}).`);
  }
}
