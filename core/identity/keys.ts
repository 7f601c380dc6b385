import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import { refuseDevKeyFileInProduction } from '../config/dev-key-files.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface IdentityKeys {
  /** Present where identities are signed (the gateway); absent on workers. */
  privateJwk?: JWK;
  /** Every key a worker accepts, by `kid`: the signing key's public half and, after a rotation, older ones. */
  publicKeys: JSONWebKeySet;
  /** Where the keys came from: the environment (production) or the development key file. */
  source: 'env' | 'file';
}

/** The development key file's contents: the signing key and the public keys of earlier signing keys still trusted. */
export interface DevIdentityKeyFile {
  signing: JWK;
  /** Public keys kept after a rotation so runs signed with them still verify; retired one by one. */
  verifyOnly: JWK[];
}

/**
 * Loads the identity keys. Production: `BATON_IDENTITY_PRIVATE_JWK` (gateway) and `BATON_IDENTITY_JWKS`
 * (workers; lists several keys during a rotation, each picked by `kid`). Development: the key file, made on
 * first use so `npm start` needs no setup; after `baton keys rotate-identity` it also holds the public keys
 * of earlier signing keys. A key set that could not select keys by `kid` unambiguously, or that carries a
 * private key where only public keys belong, is refused.
 */
export async function loadIdentityKeys({ env = process.env, devKeyFile }: { env?: NodeJS.ProcessEnv; devKeyFile: string }): Promise<IdentityKeys> {
  const privateJwk = env.BATON_IDENTITY_PRIVATE_JWK ? parseJson<JWK>('BATON_IDENTITY_PRIVATE_JWK', env.BATON_IDENTITY_PRIVATE_JWK) : undefined;
  const publicKeys = env.BATON_IDENTITY_JWKS ? parseJson<JSONWebKeySet>('BATON_IDENTITY_JWKS', env.BATON_IDENTITY_JWKS) : undefined;
  if (privateJwk || publicKeys) {
    if (publicKeys) return { privateJwk, publicKeys: checkPublicKeySet(publicKeys, 'BATON_IDENTITY_JWKS'), source: 'env' };
    return { privateJwk, publicKeys: { keys: [toPublicJwk(privateJwk as JWK)] }, source: 'env' };
  }
  refuseDevKeyFileInProduction(env, 'BATON_IDENTITY_PRIVATE_JWK (gateway) and BATON_IDENTITY_JWKS (workers)', devKeyFile);
  const dev = readDevIdentityFile(devKeyFile) ?? (await writeDevKey(devKeyFile));
  return { privateJwk: dev.signing, publicKeys: devPublicKeys(dev, devKeyFile), source: 'file' };
}

export async function generateIdentityKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'EdDSA', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

export function toPublicJwk({ d: _private, ...publicPart }: JWK): JWK {
  return publicPart;
}

/**
 * The key set after a rotation: the new key's public half first, then every key trusted so far, so runs
 * signed before the rotation keep verifying until their keys are retired.
 */
export function withNewSigningKey(publicKeys: JSONWebKeySet, newPrivateJwk: JWK): JSONWebKeySet {
  return checkPublicKeySet({ keys: [toPublicJwk(newPrivateJwk), ...publicKeys.keys.filter((key) => key.kid !== newPrivateJwk.kid)] }, 'the new key set');
}

/** The key set without `kid`; refuses to drop the signing key or the last key, and names unknown kids. */
export function withoutKey(publicKeys: JSONWebKeySet, kid: string, signingKid: string | undefined): JSONWebKeySet {
  const kids = publicKeys.keys.map((key) => key.kid);
  if (!kids.includes(kid)) throw new Error(`No trusted identity key has kid "${kid}"; the trusted kids are ${kids.map((k) => `"${k}"`).join(', ')}.`);
  if (kid === signingKid) throw new Error(`"${kid}" is the current signing key; rotate first (\`baton keys rotate-identity\`), then retire it once its runs have ended.`);
  const keys = publicKeys.keys.filter((key) => key.kid !== kid);
  if (keys.length === 0) throw new Error(`"${kid}" is the only trusted identity key; workers would accept no run at all.`);
  return { keys };
}

/** DEVELOPMENT ONLY: the development key file, in either format (a bare private JWK, or a key set), or undefined when absent. */
export function readDevIdentityFile(file: string): DevIdentityKeyFile | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = parseJson<JWK | JSONWebKeySet>(file, readFileSync(file, 'utf8'));
  if (!('keys' in parsed)) return { signing: parsed as JWK, verifyOnly: [] };
  const keys = Array.isArray(parsed.keys) ? parsed.keys : [];
  const signing = keys.filter((key) => typeof key.d === 'string');
  if (signing.length !== 1) throw new Error(`${file} must hold exactly one private key (the signing key); it holds ${signing.length}.`);
  return { signing: signing[0]!, verifyOnly: keys.filter((key) => typeof key.d !== 'string') };
}

/**
 * DEVELOPMENT ONLY: rewrites the development key file at once (temp file + rename). A bare private JWK when
 * there is nothing else to keep (the format earlier versions read), else a key set whose one private key signs.
 */
export function writeDevIdentityFile(file: string, contents: DevIdentityKeyFile): void {
  const verifyOnly = contents.verifyOnly.map(toPublicJwk);
  const body = verifyOnly.length === 0 ? contents.signing : { keys: [contents.signing, ...verifyOnly] };
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, JSON.stringify(body), { mode: 0o600, flag: 'wx' });
  renameSync(temp, file);
}

function devPublicKeys(dev: DevIdentityKeyFile, file: string): JSONWebKeySet {
  return checkPublicKeySet({ keys: [toPublicJwk(dev.signing), ...dev.verifyOnly.map(toPublicJwk)] }, file);
}

/**
 * Workers pick the key by the token's `kid`: every key needs one and no two may share it, or a token could
 * match the wrong key (or none). Private parts are refused: a worker that can sign could forge identities.
 */
function checkPublicKeySet(set: JSONWebKeySet, origin: string): JSONWebKeySet {
  if (!set || !Array.isArray(set.keys) || set.keys.length === 0) throw new Error(`${origin} must be a JWK set with at least one key: {"keys": [...]}.`);
  const seen = new Set<string>();
  for (const key of set.keys) {
    if (typeof key.kid !== 'string' || key.kid === '') throw new Error(`Every key in ${origin} needs a "kid" (workers pick the key by it).`);
    if (seen.has(key.kid)) throw new Error(`${origin} lists kid "${key.kid}" twice; every key needs its own kid.`);
    seen.add(key.kid);
    if ('d' in key) throw new Error(`${origin} must hold public keys only, but the key "${key.kid}" includes its private part ("d"); remove it and keep the private key on the gateways.`);
  }
  return set;
}

async function writeDevKey(file: string): Promise<DevIdentityKeyFile> {
  const jwk = await generateIdentityKey();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return { signing: jwk, verifyOnly: [] };
}

function parseJson<T>(source: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${source} is not valid JSON; it must hold a JWK (or for BATON_IDENTITY_JWKS a JWK set {"keys": [...]}).`);
  }
}
