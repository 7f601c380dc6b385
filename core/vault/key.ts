import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { VaultKeyError } from './errors.ts';

export interface VaultKey {
  /** The 32-byte AES-256 key. */
  bytes: Buffer;
  /** Short public id of the key, recorded in every sealed value so a wrong key is named, not guessed at. */
  fingerprint: string;
  source: 'env' | 'file';
}

const KEY_BYTES = 32;
const HOW_TO_MAKE_ONE = 'make one with `openssl rand -base64 32`';

/**
 * Loads the vault key from BATON_VAULT_KEY, or — when the variable is absent — from `devKeyFile`,
 * creating that file with a fresh random key on first use. `variable` names another 32-byte key loaded
 * the same way (the audit chain's BATON_AUDIT_KEY).
 */
export function loadVaultKey({ env = process.env, devKeyFile, variable = 'BATON_VAULT_KEY' }: { env?: NodeJS.ProcessEnv; devKeyFile?: string; variable?: string }): VaultKey {
  const fromEnv = env[variable];
  if (fromEnv !== undefined) return parseVaultKey(fromEnv, 'env', variable);
  if (!devKeyFile) throw new VaultKeyError(`${variable} is not set; ${HOW_TO_MAKE_ONE} and export it`);
  return loadOrCreateDevKeyFile(devKeyFile);
}

/** Parses 32 bytes written as base64 / base64url (43 or 44 characters) or hex (64 characters). */
export function parseVaultKey(text: string, source: VaultKey['source'], origin: string): VaultKey {
  const value = text.trim();
  const bytes = decodeKeyText(value);
  if (!bytes) {
    // Never echo the value itself: it may be a real key with a typo.
    const got = value.length === 0 ? 'it is empty' : `got ${value.length} characters that are not a 32-byte key`;
    throw new VaultKeyError(
      `${origin} must hold 32 random bytes as base64 (44 characters) or hex (64 characters); ${got}. ${capitalise(HOW_TO_MAKE_ONE)}`,
    );
  }
  return { bytes, fingerprint: fingerprintOf(bytes), source };
}

function decodeKeyText(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    return bytes.length === KEY_BYTES ? bytes : undefined;
  }
  return undefined;
}

/** Where the key in use came from, as an operator would look for it. */
export function describeKeySource(key: VaultKey): string {
  return key.source === 'env' ? 'BATON_VAULT_KEY' : 'the development vault key file';
}

/** First 8 bytes of a domain-separated SHA-256: identifies the key without revealing anything useful about it. */
export function fingerprintOf(bytes: Buffer): string {
  return createHash('sha256').update('baton-vault-key-id').update(bytes).digest().subarray(0, 8).toString('hex');
}

/**
 * DEVELOPMENT ONLY: a key kept next to the data it protects is no protection against someone who can read
 * the disk. It exists so `npm start` works out of the box; production sets BATON_VAULT_KEY from a secret store.
 */
function loadOrCreateDevKeyFile(path: string): VaultKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Write a private temp file, then hard-link it into place: the link fails if another process created the
    // key first, and a reader never sees a half-written file. Either way everyone ends up with one key.
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temp);
    }
  }
  return parseVaultKey(readFileSync(path, 'utf8'), 'file', `the development key file ${path}`);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
