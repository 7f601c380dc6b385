import { createHash, randomBytes } from 'node:crypto';
import { refuseDevKeyFileInProduction } from '../config/dev-key-files.ts';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { VaultKeyError } from './errors.ts';

export interface VaultKey {
  /** The 32-byte AES-256 key. */
  bytes: Buffer;
  /** Short public id of the key, recorded in every sealed value so a wrong key is named, not guessed at. */
  fingerprint: string;
  source: 'env' | 'file';
}

/**
 * The keys a vault works with: `current` seals every new value; `previous` keys (a rotation in progress)
 * only open values sealed before the rotation re-encrypted them. Each sealed value names its key by fingerprint.
 */
export interface VaultKeyring {
  readonly current: VaultKey;
  readonly previous: readonly VaultKey[];
}

/** What the vault functions accept: one key (no rotation) or a keyring. */
export type VaultKeys = VaultKey | VaultKeyring;

const KEY_BYTES = 32;
const HOW_TO_MAKE_ONE = 'make one with `openssl rand -base64 32`';
const PREVIOUS_KEYS_VARIABLE = 'BATON_VAULT_PREVIOUS_KEYS';

/**
 * Loads the vault key from BATON_VAULT_KEY, or — when the variable is absent — from `devKeyFile`,
 * creating that file with a fresh random key on first use. `variable` names another 32-byte key loaded
 * the same way (the audit chain's BATON_AUDIT_KEY).
 */
export function loadVaultKey({ env = process.env, devKeyFile, variable = 'BATON_VAULT_KEY' }: { env?: NodeJS.ProcessEnv; devKeyFile?: string; variable?: string }): VaultKey {
  const fromEnv = env[variable];
  if (fromEnv !== undefined) return parseVaultKey(fromEnv, 'env', variable);
  if (!devKeyFile) throw new VaultKeyError(`${variable} is not set; ${HOW_TO_MAKE_ONE} and export it`);
  refuseDevKeyFileInProduction(env, variable, devKeyFile);
  return loadOrCreateDevKeyFile(devKeyFile)[0]!;
}

/**
 * The vault's keyring. Production: BATON_VAULT_KEY is the current key and BATON_VAULT_PREVIOUS_KEYS
 * (comma-separated, optional) the keys a rotation is moving away from. Development (neither set): the key
 * file's first key is current and any further lines are previous keys; the keyring follows the file, so
 * `baton keys rotate-vault` can rotate a running `npm start` without restarting it.
 */
export function loadVaultKeyring({ env = process.env, devKeyFile }: { env?: NodeJS.ProcessEnv; devKeyFile?: string }): VaultKeyring {
  const previousText = env[PREVIOUS_KEYS_VARIABLE];
  if (env.BATON_VAULT_KEY === undefined) {
    if (previousText !== undefined && previousText.trim() !== '') {
      throw new VaultKeyError(`${PREVIOUS_KEYS_VARIABLE} is set but BATON_VAULT_KEY is not; set BATON_VAULT_KEY to the current key (previous keys only open values sealed before a rotation)`);
    }
    if (devKeyFile) {
      refuseDevKeyFileInProduction(env, 'BATON_VAULT_KEY', devKeyFile);
      return new DevKeyFileKeyring(devKeyFile);
    }
  }
  const current = loadVaultKey({ env, devKeyFile });
  const previous = parsePreviousKeys(previousText ?? '', 'env', PREVIOUS_KEYS_VARIABLE).filter((key) => key.fingerprint !== current.fingerprint);
  return { current, previous: dedupe(previous) };
}

/** Comma- (or whitespace-) separated keys; each entry is named by position, never echoed. */
export function parsePreviousKeys(text: string, source: VaultKey['source'], origin: string): VaultKey[] {
  const entries = text.split(/[\s,]+/).filter(Boolean);
  return entries.map((entry, index) => parseVaultKey(entry, source, entries.length > 1 ? `${origin} (entry ${index + 1})` : origin));
}

/** One key, or a keyring, as a keyring. */
export function keyringOf(keys: VaultKeys): VaultKeyring {
  return 'current' in keys ? keys : { current: keys, previous: [] };
}

/** The configured key with this fingerprint (current first), if any. */
export function findVaultKey(keys: VaultKeys, fingerprint: string): VaultKey | undefined {
  const ring = keyringOf(keys);
  if (ring.current.fingerprint === fingerprint) return ring.current;
  return ring.previous.find((key) => key.fingerprint === fingerprint);
}

/** "BATON_VAULT_KEY is <fp>" — with the previous keys when there are any — for error messages. */
export function describeKeyring(keys: VaultKeys): string {
  const ring = keyringOf(keys);
  const current = `${describeKeySource(ring.current)} is ${ring.current.fingerprint}`;
  if (ring.previous.length === 0) return current;
  const previous = ring.previous.map((key) => key.fingerprint).join(', ');
  return ring.current.source === 'env' ? `${current} and ${PREVIOUS_KEYS_VARIABLE} holds ${previous}` : `${current} (current) and also holds ${previous} (previous)`;
}

/** A fresh random key, as its text (base64) and parsed. */
export function generateVaultKey(): { text: string; key: VaultKey } {
  const text = randomBytes(KEY_BYTES).toString('base64');
  return { text, key: parseVaultKey(text, 'env', 'a generated key') };
}

/** DEVELOPMENT ONLY: the keys in a development key file, current first (creating the file on first use). */
export function readDevKeyFile(path: string): VaultKey[] {
  return loadOrCreateDevKeyFile(path);
}

/**
 * DEVELOPMENT ONLY: replaces the key file's contents at once (temp file + rename: a reader sees the old
 * or the new file, never half of one). `keys` are base64/hex key texts, current first.
 */
export function writeDevKeyFile(path: string, keys: readonly string[]): void {
  if (keys.length === 0) throw new VaultKeyError('a vault key file needs at least one key');
  for (const [index, text] of keys.entries()) parseVaultKey(text, 'file', `key ${index + 1} for ${path}`);
  const lines = [
    '# Baton development vault keys. The first key is current; any further keys are previous keys that',
    '# `baton keys rotate-vault` is moving away from. Production sets BATON_VAULT_KEY instead.',
    ...keys,
  ];
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${lines.join('\n')}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temp, path);
}

/** DEVELOPMENT ONLY: the key texts of a development key file, current first (for rewriting it). */
export function readDevKeyFileTexts(path: string): string[] {
  return keyLines(readFileSync(path, 'utf8'));
}

/**
 * The keyring of a development key file, re-read whenever the file changes (a cheap `stat` per use): a
 * running process seals with the new key as soon as a rotation writes it, and forgets a dropped key.
 * A file that cannot be read or parsed any more leaves the last good keys in place (the next start says why).
 */
class DevKeyFileKeyring implements VaultKeyring {
  readonly #path: string;
  #stamp = '';
  #keys: VaultKey[];

  constructor(path: string) {
    this.#path = path;
    this.#keys = loadOrCreateDevKeyFile(path);
    this.#stamp = this.#statStamp() ?? '';
  }

  get current(): VaultKey {
    this.#follow();
    return this.#keys[0]!;
  }

  get previous(): readonly VaultKey[] {
    this.#follow();
    return this.#keys.slice(1);
  }

  #statStamp(): string | undefined {
    try {
      const stat = statSync(this.#path);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return undefined;
    }
  }

  #follow(): void {
    const stamp = this.#statStamp();
    if (stamp === undefined || stamp === this.#stamp) return;
    try {
      this.#keys = parseDevKeyFile(readFileSync(this.#path, 'utf8'), this.#path);
      this.#stamp = stamp;
    } catch {
      // Keep the last good keys; a broken file is reported by the next process that starts.
    }
  }
}

/** Parses 32 bytes written as base64 / base64url (43 or 44 characters) or hex (64 characters). */
export function parseVaultKey(text: string, source: VaultKey['source'], origin: string): VaultKey {
  const value = text.trim();
  const bytes = decodeKeyText(value);
  if (!bytes) {
    // Never echo the value itself: it may be a real key with a typo.
    const got = value.length === 0 ? 'it is empty' : `got ${value.length} characters that are not a 32-byte key`;
    throw new VaultKeyError(`${origin} must hold 32 random bytes as base64 (44 characters) or hex (64 characters); ${got}. ${capitalise(HOW_TO_MAKE_ONE)}`);
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
 * Returns the keys in the file, current first.
 */
function loadOrCreateDevKeyFile(path: string): VaultKey[] {
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
  return parseDevKeyFile(readFileSync(path, 'utf8'), path);
}

/** Key lines of a development key file: one key per line, `#` comments and blank lines ignored. */
function keyLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function parseDevKeyFile(text: string, path: string): VaultKey[] {
  const lines = keyLines(text);
  if (lines.length === 0) return [parseVaultKey('', 'file', `the development key file ${path}`)];
  const keys = lines.map((line, index) => parseVaultKey(line, 'file', index === 0 ? `the development key file ${path}` : `line ${index + 1} of the keys in ${path}`));
  return dedupe(keys);
}

function dedupe(keys: VaultKey[]): VaultKey[] {
  const seen = new Set<string>();
  return keys.filter((key) => !seen.has(key.fingerprint) && seen.add(key.fingerprint));
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
