import type { SqlDatabase } from '../db.ts';
import { seal, unseal } from './cipher.ts';
import { VaultCorruptError, VaultKeyMismatchError } from './errors.ts';
import { describeKeySource, type VaultKey } from './key.ts';

const KEY_CHECK_NAME = 'key_check';
const KEY_CHECK_AAD = 'vault_meta:key_check';
const KEY_CHECK_PLAINTEXT = 'baton vault key check';

/**
 * Seals a known value when the vault is first created and opens it on every later start, so a process
 * given the wrong key refuses to start instead of reporting every user's connection as broken.
 */
export function verifyVaultKey(db: SqlDatabase, key: VaultKey, now: number): void {
  // ON CONFLICT DO NOTHING: two processes creating the vault at once agree on whichever row landed first.
  db.run('INSERT INTO vault_meta (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', KEY_CHECK_NAME, seal(key, KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD), now);
  const row = db.get<{ value: string }>('SELECT value FROM vault_meta WHERE name = ?', KEY_CHECK_NAME);
  let opened: string;
  try {
    opened = unseal(key, row?.value ?? '', KEY_CHECK_AAD);
  } catch (error) {
    if (error instanceof VaultKeyMismatchError) {
      throw new VaultKeyMismatchError(
        `this vault was encrypted with vault key ${error.sealedWith} but ${describeKeySource(key)} is ${error.keyInUse}; set the key this vault was created with`,
        error.sealedWith,
        error.keyInUse,
      );
    }
    throw error;
  }
  if (opened !== KEY_CHECK_PLAINTEXT) throw new VaultCorruptError('the vault key check value holds unexpected content');
}
