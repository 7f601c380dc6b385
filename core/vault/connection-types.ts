export type ConnectionStatus = 'active' | 'needs_reconsent' | 'revoked';

/** What may be shown about a connection: everything except the tokens. */
export interface ConnectionInfo {
  tenant: string;
  subject: string;
  app: string;
  status: ConnectionStatus;
  statusReason: string | null;
  scopes: string[];
  /** Epoch ms when the access token expires; null when the app issues non-expiring tokens. */
  expiresAt: number | null;
  externalAccountId: string;
  externalLogin: string;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  /** Bumped on every write of the credential or status (not on lastUsedAt), so waiters can see a change. */
  version: number;
}

export interface PutConnectionInput {
  tenant: string;
  subject: string;
  app: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt?: number;
  scopes: string[];
  externalAccountId: string;
  externalLogin: string;
}

export interface RefreshedTokens {
  accessToken: string;
  /** The rotated refresh token; when absent the previous one stays in use. */
  refreshToken?: string;
  expiresAt?: number;
  scopes?: string[];
}

/** Exchanges a refresh token with the app; throws RefreshRejectedError when the app refuses it for good. */
export type Refresher = (refreshToken: string) => Promise<RefreshedTokens>;

export interface ResolvedUserToken {
  accessToken: string;
  info: ConnectionInfo;
}

export interface ConnectionId {
  tenant: string;
  subject: string;
  app: string;
}
