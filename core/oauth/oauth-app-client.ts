/** The tokens an OAuth authorization server hands Baton for one user. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  scopes?: string[];
}

/**
 * What the connect flow and the vault's refresher need from an app's OAuth client, whether the client
 * is configured (a REST app, core/oauth/oauth-client.ts) or discovered and registered at run time (an
 * upstream MCP server, core/upstreams/upstream-oauth-client.ts).
 */
export interface OAuthAppClient {
  /** A fresh PKCE verifier and state, and the authorize URL that carries their public halves. */
  startAuthorization(redirectUri: string, scopeSeparator: string): Promise<{ url: URL; state: string; codeVerifier: string }>;
  /** Validates the redirect back and exchanges the code; `denied` when the user pressed Deny. */
  finishAuthorization(callback: URL, expected: { state: string; codeVerifier: string; redirectUri: string }): Promise<TokenSet | 'denied'>;
  /** Uses a refresh token; a refused one becomes RefreshRejectedError (the user must consent again). */
  refresh(refreshToken: string): Promise<TokenSet>;
}
