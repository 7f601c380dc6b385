import type { SqlDatabase } from '../db.ts';
import { seal, unseal } from './cipher.ts';
import { VaultCorruptError, VaultKeyMismatchError } from './errors.ts';
import { describeKeyring, findVaultKey, keyringOf, type VaultKeys } from './key.ts';
import { KEY_CHECK_AAD, KEY_CHECK_NAME, SEALED_COLUMNS, countByKey } from './sealed-columns.ts';

const KEY_CHECK_PLAINTEXT = 'baton vault key check';

/**
 * Seals a known value when the vault is first created and opens it on every later start, so a process
 * given the wrong key refuses to start instead of reporting every user's connection as broken. Then it
 * makes sure every sealed value is under a configured key: during a rotation values sealed with a
 * previous key are fine as long as that key is still configured; a value under any other key means a
 * key is missing from the configuration, and the process refuses to start rather than fail those calls.
 */
export async function verifyVaultKey(db: SqlDatabase, keys: VaultKeys, now: number): Promise<void> {
  const ring = keyringOf(keys);
  // ON CONFLICT DO NOTHING: two processes creating the vault at once agree on whichever row landed first.
  await db.run('INSERT INTO vault_meta (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', KEY_CHECK_NAME, seal(ring, KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD), now);
  await checkKeyCheckValue(db, ring);
  await assertEverySealedValueHasAKey(db, keys);
}

/**
 * Throws VaultKeyMismatchError unless the configured keys open the vault's key check value (nothing to
 * check in a vault that has none yet): the keys belong to this vault.
 */
export async function checkKeyCheckValue(db: SqlDatabase, keys: VaultKeys): Promise<void> {
  const ring = keyringOf(keys);
  const row = await db.get<{ value: string }>('SELECT value FROM vault_meta WHERE name = ?', KEY_CHECK_NAME);
  if (!row) return;
  let opened: string;
  try {
    opened = unseal(ring, row.value, KEY_CHECK_AAD);
  } catch (error) {
    if (error instanceof VaultKeyMismatchError) {
      throw new VaultKeyMismatchError(
        `this vault was encrypted with vault key ${error.sealedWith} but ${describeKeyring(ring)}; set the key this vault was created with`,
        error.sealedWith,
        error.keyInUse,
      );
    }
    throw error;
  }
  if (opened !== KEY_CHECK_PLAINTEXT) throw new VaultCorruptError('the vault key check value holds unexpected content');
}

/** Refuses (VaultKeyMismatchError) when any sealed value names a key that is neither current nor previous. */
async function assertEverySealedValueHasAKey(db: SqlDatabase, keys: VaultKeys): Promise<void> {
  const unknown = new Map<string, string[]>();
  for (const spec of SEALED_COLUMNS) {
    for (const [fingerprint, count] of await countByKey(db, spec)) {
      // Malformed values are one row's problem (that connection reads as "unreadable"), not a key problem.
      if (fingerprint === 'malformed' || findVaultKey(keys, fingerprint)) continue;
      unknown.set(fingerprint, [...(unknown.get(fingerprint) ?? []), `${count} ${count === 1 ? singular(spec.label) : spec.label}`]);
    }
  }
  if (unknown.size === 0) return;
  const [first] = unknown.keys();
  const which = [...unknown].map(([fingerprint, what]) => `${what.join(', ')} under vault key ${fingerprint}`).join('; ');
  const ring = keyringOf(keys);
  throw new VaultKeyMismatchError(
    `this vault holds ${which}, which ${describeKeyring(ring)} cannot open. A key rotation is unfinished: add the missing key to ${ring.current.source === 'env' ? 'BATON_VAULT_PREVIOUS_KEYS' : 'the development vault key file (after the current key)'} until \`baton keys rotate-vault\` has re-encrypted everything; if that key is lost for good, \`baton keys rotate-vault ${[...unknown.keys()].map((fingerprint) => `--delete-lost-key ${fingerprint}`).join(' ')}\` deletes those values (their users reconnect)`,
    first!,
    ring.current.fingerprint,
  );
}

function singular(label: string): string {
  return label.replace(/s$/, '');
}
