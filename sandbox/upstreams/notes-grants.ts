/**
 * What the notes authorization server has granted: each user's grants, which of them are revoked, and the
 * grant every access token was issued from. Its access tokens are JWTs the MCP server checks offline, so
 * this is how a revoked grant (by the user, by the revocation endpoint, or by refresh-token reuse
 * detection) stops its outstanding access tokens at once, as it stops its refresh tokens.
 */
export class NotesGrants {
  #byUser = new Map<string, Set<string>>();
  /** Access token `jti` → grant id. */
  #grantOfToken = new Map<string, string>();
  #revoked = new Set<string>();

  granted(user: string, grantId: string): void {
    const grants = this.#byUser.get(user) ?? new Set<string>();
    this.#byUser.set(user, grants.add(grantId));
  }

  issued(jti: string, grantId: string): void {
    this.#grantOfToken.set(jti, grantId);
  }

  revoked(grantId: string): void {
    this.#revoked.add(grantId);
  }

  liveGrantsOf(user: string): string[] {
    return [...(this.#byUser.get(user) ?? [])].filter((grantId) => !this.#revoked.has(grantId));
  }

  /** `unknown` for a token this server never issued from a grant: refused like a revoked one. */
  tokenGrantState(jti: string): 'live' | 'revoked' | 'unknown' {
    const grantId = this.#grantOfToken.get(jti);
    if (grantId === undefined) return 'unknown';
    return this.#revoked.has(grantId) ? 'revoked' : 'live';
  }
}
