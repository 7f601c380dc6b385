import type { SqlExecutor } from '../db.ts';
import { connectionAad } from './connection-rows.ts';

/**
 * Every column in which the vault keeps a sealed value, with what binds each value to its row (the AAD)
 * and how to name a row to an operator. The start-up key check and `baton keys rotate-vault` both walk
 * this list, so a new sealed column added here is checked and re-encrypted too.
 */
export interface SealedColumn {
  /** Plural, for reports: "connections". */
  label: string;
  table: string;
  column: string;
  /** The columns that identify one row (its primary key), in key order. */
  keyColumns: readonly string[];
  /** Further columns the AAD needs. */
  aadColumns: readonly string[];
  /** Restricts the table to the rows that hold sealed values (SQL condition without parameters). */
  where?: string;
  aad(row: SealedRow): string;
  /** "alice's github connection (tenant acme)": never anything secret. */
  describe(row: SealedRow): string;
}

export type SealedRow = Record<string, string | number | null>;

export const KEY_CHECK_NAME = 'key_check';
export const KEY_CHECK_AAD = 'vault_meta:key_check';

export function serviceAad(app: string): string {
  return `service:${encodeURIComponent(app)}`;
}

export function inboundAad(ref: string, owner: { tenant: string; subject: string }): string {
  return `inbound:${encodeURIComponent(ref)}:${encodeURIComponent(owner.tenant)}:${encodeURIComponent(owner.subject)}`;
}

const text = (value: string | number | null | undefined): string => String(value ?? '');

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    label: 'key check',
    table: 'vault_meta',
    column: 'value',
    keyColumns: ['name'],
    aadColumns: [],
    where: `name = '${KEY_CHECK_NAME}'`,
    aad: () => KEY_CHECK_AAD,
    describe: () => 'the vault key check',
  },
  {
    label: 'connections',
    table: 'vault_connections',
    column: 'sealed_secret',
    keyColumns: ['tenant', 'subject', 'app'],
    aadColumns: [],
    aad: (row) => connectionAad({ tenant: text(row.tenant), subject: text(row.subject), app: text(row.app) }),
    describe: (row) => `${text(row.subject)}'s ${text(row.app)} connection (tenant ${text(row.tenant)})`,
  },
  {
    label: 'service credentials',
    table: 'vault_service_credentials',
    column: 'sealed_secret',
    keyColumns: ['app'],
    aadColumns: [],
    aad: (row) => serviceAad(text(row.app)),
    describe: (row) => `the ${text(row.app)} service credential`,
  },
  {
    label: 'inbound tokens',
    table: 'vault_inbound_tokens',
    column: 'sealed_token',
    keyColumns: ['ref'],
    aadColumns: ['tenant', 'subject'],
    aad: (row) => inboundAad(text(row.ref), { tenant: text(row.tenant), subject: text(row.subject) }),
    describe: (row) => `an inbound token of ${text(row.subject)} (tenant ${text(row.tenant)})`,
  },
];

/** How many sealed values of this column each key fingerprint holds ("malformed" for values that are not sealed values). */
export async function countByKey(db: SqlExecutor, spec: SealedColumn): Promise<Map<string, number>> {
  // The first 20 characters are "v1.<16 hex fingerprint>."; grouping on them needs no decryption.
  const head = `substr(${spec.column}, 1, 20)`;
  const rows = await db.all<{ head: string | null; n: number | string }>(`SELECT ${head} AS head, COUNT(*) AS n FROM ${spec.table}${spec.where ? ` WHERE ${spec.where}` : ''} GROUP BY ${head}`);
  const counts = new Map<string, number>();
  for (const row of rows) {
    const fingerprint = /^v1\.([0-9a-f]{16})\.$/.exec(row.head ?? '')?.[1] ?? 'malformed';
    counts.set(fingerprint, (counts.get(fingerprint) ?? 0) + Number(row.n));
  }
  return counts;
}

/** Sealed values per key fingerprint, per column label. */
export async function vaultKeyCensus(db: SqlExecutor): Promise<Map<string, Map<string, number>>> {
  const census = new Map<string, Map<string, number>>();
  for (const spec of SEALED_COLUMNS) census.set(spec.label, await countByKey(db, spec));
  return census;
}
