import type { SqlExecutor } from '../db.ts';
import { seal, unseal } from './cipher.ts';
import { VaultCorruptError } from './errors.ts';
import type { VaultKeys } from './key.ts';
import type { ConnectionId, ConnectionInfo, ConnectionStatus } from './connection-types.ts';

export interface ConnectionRow {
  tenant: string;
  subject: string;
  app: string;
  sealed_secret: string;
  expires_at: number | null;
  scopes: string;
  external_account_id: string;
  external_login: string;
  status: string;
  status_reason: string | null;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
  version: number;
  refresh_lease_owner: string | null;
  refresh_lease_until: number | null;
}

/** The tokens of one connection, sealed together as one JSON document. */
export interface ConnectionSecret {
  accessToken: string;
  refreshToken?: string;
}

export const WHERE_CONNECTION = 'tenant = ? AND subject = ? AND app = ?';

export function connectionParams(id: ConnectionId): [string, string, string] {
  return [id.tenant, id.subject, id.app];
}

/** Binds a sealed secret to its row. Parts are URI-encoded so "a:b"/"c" and "a"/"b:c" cannot collide. */
export function connectionAad(id: ConnectionId): string {
  return `connection:${[id.tenant, id.subject, id.app].map(encodeURIComponent).join(':')}`;
}

export function readConnectionRow(db: SqlExecutor, id: ConnectionId): Promise<ConnectionRow | undefined> {
  return db.get<ConnectionRow>(`SELECT * FROM vault_connections WHERE ${WHERE_CONNECTION}`, ...connectionParams(id));
}

export function sealConnectionSecret(key: VaultKeys, id: ConnectionId, secret: ConnectionSecret): string {
  const document: ConnectionSecret = { accessToken: secret.accessToken };
  if (secret.refreshToken) document.refreshToken = secret.refreshToken;
  return seal(key, JSON.stringify(document), connectionAad(id));
}

export function unsealConnectionSecret(key: VaultKeys, row: ConnectionRow): ConnectionSecret {
  const aad = connectionAad(row);
  const parsed: unknown = JSON.parse(unseal(key, row.sealed_secret, aad));
  if (!isConnectionSecret(parsed)) throw new VaultCorruptError(`the sealed value for ${aad} does not hold connection tokens`);
  return parsed;
}

function isConnectionSecret(value: unknown): value is ConnectionSecret {
  if (typeof value !== 'object' || value === null) return false;
  const { accessToken, refreshToken } = value as Record<string, unknown>;
  return typeof accessToken === 'string' && (refreshToken === undefined || typeof refreshToken === 'string');
}

export function toConnectionInfo(row: ConnectionRow): ConnectionInfo {
  return {
    tenant: row.tenant,
    subject: row.subject,
    app: row.app,
    status: row.status as ConnectionStatus,
    statusReason: row.status_reason,
    scopes: JSON.parse(row.scopes) as string[],
    expiresAt: toNumberOrNull(row.expires_at),
    externalAccountId: row.external_account_id,
    externalLogin: row.external_login,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastUsedAt: toNumberOrNull(row.last_used_at),
    version: Number(row.version),
  };
}

// PostgreSQL drivers hand BIGINT columns back as strings; normalise so callers always get numbers.
function toNumberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}
