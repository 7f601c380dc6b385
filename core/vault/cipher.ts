import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VaultCorruptError, VaultKeyMismatchError } from './errors.ts';
import { describeKeyring, findVaultKey, keyringOf, type VaultKeys } from './key.ts';

// Sealed format: v1.<key fingerprint>.<iv>.<ciphertext>.<auth tag>, binary parts base64url.
// The version lets a later format coexist; the fingerprint turns "wrong key" into a precise error
// instead of an authentication failure that looks like corruption.
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const FINGERPRINT = /^[0-9a-f]{16}$/;

/**
 * Encrypts `plaintext` with AES-256-GCM under the current key. `aad` names the place the value belongs
 * (e.g. its row), so the ciphertext only opens there: copied into another row it fails authentication.
 */
export function seal(keys: VaultKeys, plaintext: string, aad: string): string {
  const key = keyringOf(keys).current;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, key.fingerprint, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The fingerprint of the key a value was sealed with, or undefined when it is not a sealed value at all. */
export function sealedKeyFingerprint(sealed: string): string | undefined {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  return parts.length === 5 && parts[0] === VERSION && FINGERPRINT.test(parts[1]!) ? parts[1] : undefined;
}

/** The first characters of every value sealed with this key: `v1.<fingerprint>.` (for SQL comparisons). */
export function sealedPrefix(fingerprint: string): string {
  return `${VERSION}.${fingerprint}.`;
}

/**
 * Decrypts a value made by `seal` for the same `aad` with whichever configured key (current or previous)
 * its fingerprint names; never returns unauthenticated bytes.
 */
export function unseal(keys: VaultKeys, sealed: string, aad: string): string {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 5) throw new VaultCorruptError(`the sealed value for ${aad} is not in the vault format`);
  const [version, fingerprint, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string];
  if (version !== VERSION) throw new VaultCorruptError(`the sealed value for ${aad} has unknown format version "${version.slice(0, 8)}"`);
  if (!FINGERPRINT.test(fingerprint) || ![ivText, ciphertextText, tagText].every((part) => BASE64URL.test(part))) {
    throw new VaultCorruptError(`the sealed value for ${aad} is malformed`);
  }
  const key = findVaultKey(keys, fingerprint);
  if (!key) {
    throw new VaultKeyMismatchError(
      `the secret for ${aad} was encrypted with vault key ${fingerprint} but ${describeKeyring(keys)}; set the key this vault was created with`,
      fingerprint,
      keyringOf(keys).current.fingerprint,
    );
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new VaultCorruptError(`the sealed value for ${aad} is malformed`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new VaultCorruptError(`the sealed value for ${aad} failed authentication (tampered with or moved from another record)`, {
      cause: error,
    });
  }
}
