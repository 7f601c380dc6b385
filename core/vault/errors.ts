// Every vault error carries a stable `code` so callers (and Temporal, which serialises errors by name and
// message only) can tell them apart without matching on message text.

/** BATON_VAULT_KEY (or the development key file) does not hold a usable 32-byte key. */
export class VaultKeyError extends Error {
  override name = 'VaultKeyError';
  readonly code = 'vault_key_invalid';
}

/** Data was sealed with a different vault key than the one this process loaded. */
export class VaultKeyMismatchError extends Error {
  override name = 'VaultKeyMismatchError';
  readonly code = 'vault_key_mismatch';
  readonly sealedWith: string;
  readonly keyInUse: string;

  constructor(message: string, sealedWith: string, keyInUse: string) {
    super(message);
    this.sealedWith = sealedWith;
    this.keyInUse = keyInUse;
  }
}

/** A sealed value is malformed or fails authentication (tampered, truncated, or moved to another row). */
export class VaultCorruptError extends Error {
  override name = 'VaultCorruptError';
  readonly code = 'vault_corrupt';
}

/**
 * Thrown by OAuth client code when the provider refuses a refresh token for good (`invalid_grant`):
 * the user has to consent again, so retrying is pointless.
 */
export class RefreshRejectedError extends Error {
  override name = 'RefreshRejectedError';
  readonly code = 'refresh_rejected';
}

/** Another process held the refresh lease for longer than we are willing to wait; safe to retry. */
export class VaultBusyError extends Error {
  override name = 'VaultBusyError';
  readonly code = 'vault_busy';
}

export type ConnectionUnavailableReason = 'never_connected' | 'revoked' | 'refresh_failed' | 'expired' | 'unreadable';

const UNAVAILABLE_REASONS: readonly string[] = ['never_connected', 'revoked', 'refresh_failed', 'expired', 'unreadable'];

export function isConnectionUnavailableReason(value: string | null): value is ConnectionUnavailableReason {
  return value !== null && UNAVAILABLE_REASONS.includes(value);
}

/** The user's connection to an app cannot produce a token; the message says what the user must do. */
export class ConnectionUnavailableError extends Error {
  override name = 'ConnectionUnavailableError';
  readonly code = 'connection_unavailable';
  readonly tenant: string;
  readonly subject: string;
  readonly app: string;
  readonly reason: ConnectionUnavailableReason;

  constructor(target: { tenant: string; subject: string; app: string }, reason: ConnectionUnavailableReason, options?: { detail?: string; cause?: unknown }) {
    super(describeUnavailable(target.subject, target.app, reason, options?.detail), { cause: options?.cause });
    this.tenant = target.tenant;
    this.subject = target.subject;
    this.app = target.app;
    this.reason = reason;
  }
}

function describeUnavailable(subject: string, app: string, reason: ConnectionUnavailableReason, detail?: string): string {
  const because = detail ? ` (${detail})` : '';
  switch (reason) {
    case 'never_connected':
      return `${subject} has not connected ${app} yet; connect it to continue`;
    case 'revoked':
      return `${subject}'s ${app} connection was revoked${because}; reconnect ${app} to continue`;
    case 'refresh_failed':
      return `${app} no longer accepts ${subject}'s saved sign-in${because}; reconnect ${app} to continue`;
    case 'expired':
      return `${subject}'s ${app} access has expired and cannot be renewed automatically; reconnect ${app} to continue`;
    case 'unreadable':
      return `the stored ${app} credential for ${subject} is corrupted and cannot be decrypted; ${subject} must reconnect ${app}`;
  }
}
