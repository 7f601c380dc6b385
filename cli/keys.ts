/**
 * `baton keys …`: rotation of the vault encryption key and of the identity-signing key, online.
 *
 *   baton keys status
 *   baton keys rotate-vault [--batch-size <n>] [--pause-ms <ms>] [--settle-ms <ms>] [--delete-corrupt] [--delete-lost-key <fingerprint>]…
 *   baton keys rotate-identity
 *   baton keys retire-identity <kid> [--force]
 *
 * Production (keys in the environment): the command re-encrypts or computes what to configure and prints
 * exactly which variables to set, before and after. Development (key files under BATON_HOME): it edits the
 * key files itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONWebKeySet, JWK } from 'jose';
import { loadSettings, type BatonSettings } from '../core/config/settings.ts';
import { openDatabase, type SqlDatabase } from '../core/db.ts';
import { generateIdentityKey, loadIdentityKeys, readDevIdentityFile, toPublicJwk, withNewSigningKey, withoutKey, writeDevIdentityFile } from '../core/identity/keys.ts';
import { vaultKeyFile } from '../core/stores.ts';
import { checkKeyCheckValue } from '../core/vault/key-check.ts';
import { describeKeyring, generateVaultKey, loadVaultKeyring, readDevKeyFile, readDevKeyFileTexts, writeDevKeyFile, type VaultKeyring } from '../core/vault/key.ts';
import { VaultKeyMismatchError } from '../core/vault/errors.ts';
import { reencryptVault, RotationLock, type RotationReport } from '../core/vault/rotation.ts';
import { vaultKeyCensus } from '../core/vault/sealed-columns.ts';
import { parseCommandLine } from './command-line.ts';
import { findIdentityKeyUsage } from './identity-key-usage.ts';
import { operatorChanges, type OperatorChanges } from './operator-audit.ts';

const usage = `usage: baton keys status
       baton keys rotate-vault [--batch-size <n>] [--pause-ms <ms>] [--settle-ms <ms>] [--delete-corrupt] [--delete-lost-key <fingerprint>]...
       baton keys rotate-identity
       baton keys retire-identity <kid> [--force]`;

/** Identity tokens live this long (core/identity/signer.ts): a rotated-out key may be needed that long. */
const IDENTITY_TOKEN_DAYS = 30;

function fail(message: string, code = 1): void {
  console.error(`baton keys: ${message}`);
  process.exitCode = code;
}

const parsed = parseCommandLine('keys', usage, {
  'batch-size': { type: 'string' },
  'pause-ms': { type: 'string' },
  'settle-ms': { type: 'string' },
  'delete-corrupt': { type: 'boolean' },
  'delete-lost-key': { type: 'string', multiple: true },
  force: { type: 'boolean' },
});

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${name} must be a whole number (got "${text}")`);
  return value;
}

class UsageError extends Error {}

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
const envLine = (name: string, value: string) => `${name}=${shellQuote(value)}`;

// ---------------------------------------------------------------------------------------------------------
// Vault

/** The keyring as the command sees it, fixed for its run (a development key file is re-read explicitly). */
function commandKeyring(settings: BatonSettings): { ring: VaultKeyring; mode: 'env' | 'file'; file: string } {
  const file = vaultKeyFile(settings);
  if (process.env.BATON_VAULT_KEY !== undefined || process.env.BATON_VAULT_PREVIOUS_KEYS) {
    return { ring: loadVaultKeyring({ env: process.env }), mode: 'env', file };
  }
  if (!existsSync(file))
    throw new UsageError(`BATON_VAULT_KEY is not set and there is no development vault key file at ${file}; set BATON_VAULT_KEY (and BATON_VAULT_PREVIOUS_KEYS) as the gateways and workers have them`);
  const [current, ...previous] = readDevKeyFile(file);
  return { ring: { current: current!, previous }, mode: 'file', file };
}

async function printCensus(db: SqlDatabase, ring: VaultKeyring): Promise<void> {
  const known = new Map([[ring.current.fingerprint, 'current'], ...ring.previous.map((key) => [key.fingerprint, 'previous'] as [string, string])]);
  for (const [label, counts] of await vaultKeyCensus(db)) {
    const parts = [...counts].map(([fingerprint, n]) => `${n} under ${fingerprint === 'malformed' ? 'no key (malformed)' : `${fingerprint} (${known.get(fingerprint) ?? 'NOT CONFIGURED'})`}`);
    console.log(`  ${`${label}:`.padEnd(21)} ${parts.join(', ') || 'none'}`);
  }
}

function printReport(report: RotationReport): void {
  for (const column of report.columns) {
    const unreadable = column.unreadable.length;
    const deleted = column.unreadable.filter((value) => value.deleted).length;
    console.log(`  ${`${column.label}:`.padEnd(21)} ${column.reencrypted} re-encrypted, ${column.alreadyCurrent} already current, ${unreadable} unreadable${deleted ? ` (${deleted} deleted)` : ''}`);
    for (const value of column.unreadable) console.log(`      ${value.what}: ${value.reason}${value.deleted ? ' — deleted' : ''}`);
  }
}

/** Problems that keep the previous keys from being dropped: values still under them, or values nobody can open. */
function leftovers(report: RotationReport): { underOtherKeys: number; unreadable: number } {
  const malformed = report.remaining.get('malformed') ?? 0;
  const underOtherKeys = [...report.remaining].filter(([fingerprint]) => fingerprint !== 'malformed').reduce((sum, [, n]) => sum + n, 0);
  return { underOtherKeys, unreadable: malformed };
}

async function rotateVault(options: { batchSize: number; pauseMs: number; settleMs: number; deleteCorrupt: boolean; deleteLostKeys: string[] }): Promise<void> {
  const settings = loadSettings();
  const { ring, mode, file } = commandKeyring(settings);
  const db = await openDatabase(settings);
  const lock = new RotationLock(db);
  const audit = operatorChanges(settings, db);
  try {
    // Keys that do not open this vault's key check belong to another vault: refuse before touching anything
    // (and above all before a --delete-… option could delete anything).
    try {
      await checkKeyCheckValue(db, ring);
    } catch (error) {
      if (!(error instanceof VaultKeyMismatchError)) throw error;
      throw new Error(
        `${error.message}. To rotate, keep the key the vault is under now configured as a previous key: ${mode === 'env' ? 'BATON_VAULT_KEY=<new key> and BATON_VAULT_PREVIOUS_KEYS=<the key it is under now>' : `the key it is under now after the current key in ${file}`}. Nothing was changed.`,
      );
    }
    await lock.acquire();
    const rotate = (keys: VaultKeyring) =>
      reencryptVault(db, keys, {
        batchSize: options.batchSize,
        pauseMs: options.pauseMs,
        deleteCorrupt: options.deleteCorrupt,
        deleteUnderLostKeys: options.deleteLostKeys,
        onBatch: () => lock.renew(),
      });
    if (mode === 'env') await rotateVaultFromEnvironment(db, ring, rotate, audit);
    else await rotateDevVault(db, ring, file, options.settleMs, rotate, audit);
  } finally {
    await lock.release();
    await audit.close();
    await db.close();
  }
}

type Rotate = (keys: VaultKeyring) => Promise<RotationReport>;
type Audit = OperatorChanges;

async function rotateVaultFromEnvironment(db: SqlDatabase, ring: VaultKeyring, rotate: Rotate, audit: Audit): Promise<void> {
  const census = await vaultKeyCensus(db);
  const notCurrent = [...census.values()].some((counts) => [...counts.keys()].some((fingerprint) => fingerprint !== ring.current.fingerprint && fingerprint !== 'malformed'));
  if (ring.previous.length === 0 && !notCurrent) {
    // Nothing to move: this is the start of a rotation. Say exactly what to configure.
    const next = generateVaultKey();
    console.log(`Every sealed value is under the current vault key ${ring.current.fingerprint} (BATON_VAULT_KEY); nothing to re-encrypt.`);
    console.log(`
To rotate to a new key (fingerprint ${next.key.fingerprint}; made just now, shown once — put it in your secret store):

  ${envLine('NEW_BATON_VAULT_KEY', next.text)}

1. On every gateway and worker set these, then restart them (a rolling restart is fine):
     BATON_VAULT_KEY=<the new key above>
     BATON_VAULT_PREVIOUS_KEYS=<the current value of BATON_VAULT_KEY, fingerprint ${ring.current.fingerprint}>
   For a rolling restart with no failed call while old and new processes overlap, first deploy
   BATON_VAULT_PREVIOUS_KEYS=<the new key> alone (every process can then open values under either key),
   and only then swap the two as above.
2. Run \`baton keys rotate-vault\` again with that same environment: it re-encrypts every sealed value under
   the new key while gateways and workers keep running, and tells you when it is done.
3. Remove BATON_VAULT_PREVIOUS_KEYS from every gateway and worker and restart them: the old key then opens nothing.`);
    return;
  }
  console.log(`Re-encrypting the vault under ${ring.current.fingerprint} (BATON_VAULT_KEY); previous keys: ${ring.previous.map((key) => key.fingerprint).join(', ') || 'none configured'}.`);
  const report = await rotate(ring);
  printReport(report);
  const { underOtherKeys, unreadable } = leftovers(report);
  const moved = report.columns.reduce((sum, column) => sum + column.reencrypted, 0);
  await audit.record('vault.key_rotated', { to: ring.current.fingerprint, from: ring.previous.map((key) => key.fingerprint).join(','), reencrypted: String(moved), remaining: String(underOtherKeys) });
  if (underOtherKeys > 0 || unreadable > 0) {
    fail(stuckMessage(report, 'BATON_VAULT_PREVIOUS_KEYS'));
    return;
  }
  console.log(`Every sealed value is now under ${ring.current.fingerprint}.`);
  if (ring.previous.length > 0) {
    console.log(`Next: remove BATON_VAULT_PREVIOUS_KEYS (${ring.previous.map((key) => key.fingerprint).join(', ')}) from every gateway and worker and restart them.
From then on the old key opens nothing: a process given only the old key refuses to start. Destroy it once no
backup taken before this rotation needs it.`);
  }
}

async function rotateDevVault(db: SqlDatabase, fileRing: VaultKeyring, file: string, settleMs: number, rotate: Rotate, audit: Audit): Promise<void> {
  let ring = fileRing;
  if (ring.previous.length === 0) {
    const next = generateVaultKey();
    writeDevKeyFile(file, [next.text, ...readDevKeyFileTexts(file)]);
    ring = { current: { ...next.key, source: 'file' }, previous: [fileRing.current] };
    console.log(`Made a new vault key ${ring.current.fingerprint}; ${file} now holds it as current and ${fileRing.current.fingerprint} as previous.
Running Baton processes that use this file seal with the new key from their next vault access on.`);
  } else {
    console.log(`Continuing the unfinished rotation in ${file}: ${describeKeyring(ring)}.`);
  }
  const report = await rotate(ring);
  printReport(report);
  const { underOtherKeys, unreadable } = leftovers(report);
  if (underOtherKeys > 0 || unreadable > 0) {
    fail(stuckMessage(report, file));
    return;
  }
  // Everything is under the current key: drop the previous keys from the file. A process that sealed with an
  // old key just before it noticed the file change is caught by one more pass after a moment (this command
  // still holds the old keys in memory).
  writeDevKeyFile(file, [readDevKeyFileTexts(file)[0]!]);
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const last = await rotate(ring);
  const moved = [...report.columns, ...last.columns].reduce((sum, column) => sum + column.reencrypted, 0);
  await audit.record('vault.key_rotated', { to: ring.current.fingerprint, from: ring.previous.map((key) => key.fingerprint).join(','), reencrypted: String(moved), remaining: '0' });
  console.log(`Every sealed value is now under ${ring.current.fingerprint}, and ${file} no longer holds ${ring.previous.map((key) => key.fingerprint).join(', ')}: the old key opens nothing.`);
}

function stuckMessage(report: RotationReport, whereKeysLive: string): string {
  const unreadable = report.columns.flatMap((column) => column.unreadable).filter((value) => !value.deleted);
  const missing = [...new Set(unreadable.flatMap((value) => (value.missingKey ? [value.missingKey] : [])))];
  const corrupt = unreadable.filter((value) => !value.missingKey).length;
  const lines = ['not every sealed value could be moved to the current key, so keep the previous keys configured for now.'];
  if (missing.length) {
    lines.push(`${unreadable.length - corrupt} value(s) are under vault key(s) ${missing.join(', ')}, which are not configured: if such a key still exists, add it to ${whereKeysLive} and run again.`);
  }
  if (corrupt) lines.push(`${corrupt} value(s) are corrupt (malformed, or failing authentication): nothing will ever open them.`);
  if (unreadable.length === 0) lines.push('Values were sealed with an old key while this ran (is every process on the new configuration?); run it again.');
  else {
    const options = [...(corrupt ? ['--delete-corrupt'] : []), ...missing.map((fingerprint) => `--delete-lost-key ${fingerprint}`)];
    lines.push(
      `Values no key will ever open again are useless already: \`baton keys rotate-vault ${options.join(' ')}\` deletes them (users reconnect; a service credential must be set again). Name a key as lost only when it is: its values are deleted.`,
    );
  }
  return lines.join('\n');
}

async function vaultStatus(settings: BatonSettings): Promise<void> {
  if (process.env.BATON_VAULT_KEY === undefined && !process.env.BATON_VAULT_PREVIOUS_KEYS && !existsSync(vaultKeyFile(settings))) {
    console.log(`Vault keys: none yet (the development key ${vaultKeyFile(settings)} is made on first start).`);
    return;
  }
  const { ring, mode, file } = commandKeyring(settings);
  const db = await openDatabase(settings);
  try {
    console.log(
      `Vault keys (${mode === 'env' ? 'BATON_VAULT_KEY / BATON_VAULT_PREVIOUS_KEYS' : file}): current ${ring.current.fingerprint}${ring.previous.length ? `, previous ${ring.previous.map((key) => key.fingerprint).join(', ')}` : ''}`,
    );
    await printCensus(db, ring);
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Identity

const identityKeyFile = (settings: BatonSettings) => join(settings.home, 'identity-key.json');
const identityFromEnv = () => Boolean(process.env.BATON_IDENTITY_PRIVATE_JWK || process.env.BATON_IDENTITY_JWKS);
const kids = (set: JSONWebKeySet) => set.keys.map((key) => key.kid ?? '?').join(', ');

async function rotateIdentity(settings: BatonSettings): Promise<void> {
  const keys = await loadIdentityKeys({ env: process.env, devKeyFile: identityKeyFile(settings) });
  const next = await generateIdentityKey();
  const publicKeys = withNewSigningKey(keys.publicKeys, next);
  const retiring = keys.publicKeys.keys.map((key) => key.kid!);
  const latest = new Date(Date.now() + IDENTITY_TOKEN_DAYS * 86_400_000).toISOString().slice(0, 10);
  await recordOperatorChange(settings, 'identity.key_rotated', { kid: next.kid!, stillTrusted: retiring.join(',') });
  if (keys.source === 'file') {
    const file = identityKeyFile(settings);
    const current = readDevIdentityFile(file)!;
    writeDevIdentityFile(file, { signing: next, verifyOnly: [toPublicJwk(current.signing), ...current.verifyOnly] });
    console.log(`Made a new identity signing key ${next.kid} in ${file}; the workers keep trusting ${retiring.join(', ')} so runs signed with it still verify.
Restart Baton's processes (npm start; in general the workers before the gateways) so the gateway signs with the new key.
When the runs signed with the old key have ended (identity tokens live ${IDENTITY_TOKEN_DAYS} days: by ${latest} at the latest), retire it:
  baton keys retire-identity ${retiring[retiring.length - 1]}`);
    return;
  }
  console.log(`Made a new identity signing key: kid ${next.kid} (${next.alg}, ${next.crv}). Still trusted for runs signed before: ${retiring.join(', ')}.

1. On every worker (and gateway) set BATON_IDENTITY_JWKS to the key set with both public keys, and restart
   the workers. They then accept identities signed with either key:

${envLine('BATON_IDENTITY_JWKS', JSON.stringify(publicKeys))}

2. Once every worker runs with it, set BATON_IDENTITY_PRIVATE_JWK on every gateway to the new private key and
   restart the gateways. It is shown only here: put it in your secret store.

${envLine('BATON_IDENTITY_PRIVATE_JWK', JSON.stringify(next))}

3. When the runs signed with ${retiring.join(', ')} have ended (identity tokens live ${IDENTITY_TOKEN_DAYS} days: by ${latest} at the
   latest; a schedule keeps the identity it was created with until it is re-created), retire the old key.
   The command checks Temporal first and refuses while open runs or schedules still use it:
     baton keys retire-identity ${retiring[retiring.length - 1]}`);
}

async function retireIdentity(settings: BatonSettings, kid: string, force: boolean): Promise<void> {
  const keys = await loadIdentityKeys({ env: process.env, devKeyFile: identityKeyFile(settings) });
  const remaining = withoutKey(keys.publicKeys, kid, keys.privateJwk?.kid);
  if (!keys.privateJwk) {
    console.error(`baton keys: BATON_IDENTITY_PRIVATE_JWK is not set here, so this command cannot tell which key the gateways sign with; make sure it is not "${kid}".`);
  }
  if (!force) {
    let usage;
    try {
      usage = await findIdentityKeyUsage(settings, kid);
    } catch (error) {
      fail(`cannot check Temporal at ${settings.temporal.address} for runs still signed with "${kid}" (${(error as Error).message}); nothing was changed. Pass --force to retire it without checking.`);
      return;
    }
    if (usage.runs.length > 0 || usage.schedules.length > 0) {
      const shown = usage.runs.slice(0, 10).join(', ') + (usage.runs.length > 10 ? `, and ${usage.runs.length - 10} more` : '');
      fail(
        `${usage.runs.length} open run(s)${usage.schedules.length ? ` and ${usage.schedules.length} schedule(s) (${usage.schedules.join(', ')})` : ''} still carry identities signed with "${kid}"${usage.runs.length ? `: ${shown}` : ''}. ` +
          `They would fail with IdentityRejected once workers stop trusting the key. Let them finish (or cancel them; re-create the schedules), then run this again; --force retires it anyway. Nothing was changed.`,
      );
      return;
    }
    console.log(`No open run or schedule carries an identity signed with "${kid}" (${usage.examined} examined).`);
  }
  await recordOperatorChange(settings, 'identity.key_retired', { kid, stillTrusted: kids(remaining), forced: String(force) });
  if (keys.source === 'file') {
    const file = identityKeyFile(settings);
    const current = readDevIdentityFile(file)!;
    writeDevIdentityFile(file, { signing: current.signing, verifyOnly: current.verifyOnly.filter((key: JWK) => key.kid !== kid) });
    console.log(`Retired identity key ${kid} from ${file}; restart the workers (npm start) and identities signed with it are refused.`);
    return;
  }
  console.log(`Set BATON_IDENTITY_JWKS on every worker (and gateway) to the key set without ${kid}, and restart them; identities signed with it are refused from then on:

${envLine('BATON_IDENTITY_JWKS', JSON.stringify(remaining))}`);
}

/** One change in the audit trail, for commands that otherwise do not touch the database. */
async function recordOperatorChange(settings: BatonSettings, action: string, detail: Record<string, string>): Promise<void> {
  const db = await openDatabase(settings);
  const changes = operatorChanges(settings, db);
  try {
    await changes.record(action, detail);
  } finally {
    await changes.close();
    await db.close();
  }
}

async function identityStatus(settings: BatonSettings): Promise<void> {
  if (!identityFromEnv() && !existsSync(identityKeyFile(settings))) {
    console.log(`Identity keys: none yet (the development key ${identityKeyFile(settings)} is made on first start).`);
    return;
  }
  const keys = await loadIdentityKeys({ env: process.env, devKeyFile: identityKeyFile(settings) });
  const where = identityFromEnv() ? 'BATON_IDENTITY_PRIVATE_JWK / BATON_IDENTITY_JWKS' : identityKeyFile(settings);
  console.log(`Identity keys (${where}): signing ${keys.privateJwk?.kid ?? '(not configured here)'}; trusted ${kids(keys.publicKeys)}`);
}

// ---------------------------------------------------------------------------------------------------------

const { positionals, values } = parsed;
const [action, argument] = positionals;
try {
  if (action === 'rotate-vault' && !argument) {
    await rotateVault({
      batchSize: Math.max(1, count('batch-size', values['batch-size'], 100)),
      pauseMs: count('pause-ms', values['pause-ms'], 0),
      settleMs: count('settle-ms', values['settle-ms'], 1000),
      deleteCorrupt: values['delete-corrupt'] === true,
      deleteLostKeys: (values['delete-lost-key'] ?? []).map((fingerprint) => {
        if (!/^[0-9a-f]{16}$/.test(fingerprint)) throw new UsageError(`--delete-lost-key takes a key fingerprint (16 hex characters, as reported), got "${fingerprint}"`);
        return fingerprint;
      }),
    });
  } else if (action === 'rotate-identity' && !argument) {
    await rotateIdentity(loadSettings());
  } else if (action === 'retire-identity' && argument) {
    await retireIdentity(loadSettings(), argument, values.force === true);
  } else if (action === 'status' && !argument) {
    const settings = loadSettings();
    await vaultStatus(settings);
    await identityStatus(settings);
  } else fail(usage, 2);
} catch (error) {
  fail(error instanceof UsageError ? `${error.message}\n${usage}` : (error as Error).message, error instanceof UsageError ? 2 : 1);
}
