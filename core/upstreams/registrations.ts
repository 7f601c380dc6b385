import type { Vault } from '../vault/index.ts';

/** Baton's client at one upstream's authorization server, from dynamic client registration (RFC 7591). */
export interface UpstreamRegistration {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
}

/**
 * Registrations are kept in the vault (sealed like any secret, re-encrypted by key rotation) and reused:
 * Baton registers once per upstream authorization server and redirect URI, not once per user or process.
 * Two processes registering at the same moment both succeed; the last one stored is used from then on.
 */
export class UpstreamRegistrations {
  readonly #vault: Vault;

  constructor(vault: Vault) {
    this.#vault = vault;
  }

  async find(server: string, issuer: string, redirectUri: string): Promise<UpstreamRegistration | undefined> {
    const stored = await this.#vault.getServiceCredential(keyOf(server));
    if (!stored || stored.issuer !== issuer || stored.redirectUri !== redirectUri || !stored.clientId) return undefined;
    return { issuer: stored.issuer, clientId: stored.clientId, clientSecret: stored.clientSecret || undefined, redirectUri: stored.redirectUri };
  }

  async save(server: string, registration: UpstreamRegistration): Promise<void> {
    const { clientSecret, ...rest } = registration;
    await this.#vault.putServiceCredential(keyOf(server), { ...rest, ...(clientSecret ? { clientSecret } : {}) }, `OAuth client of Baton at ${registration.issuer}`);
  }

  /** Forgets a registration the authorization server no longer knows (invalid_client), so the next connect registers again. */
  async forget(server: string): Promise<void> {
    await this.#vault.deleteServiceCredential(keyOf(server));
  }
}

const keyOf = (server: string) => `mcp-oauth-client/${server}`;
