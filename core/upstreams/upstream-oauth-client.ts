import {
  discoverOAuthServerInfo,
  exchangeAuthorization,
  OAuthError,
  refreshAuthorization,
  registerClient,
  startAuthorization,
  type AuthorizationServerMetadata,
  type OAuthClientInformationMixed,
  type OAuthTokens,
} from '@modelcontextprotocol/client';
import { randomBytes } from 'node:crypto';
import type { UpstreamMcpServer } from '../../apps/types.ts';
import { oauthRedirectUri } from '../config/settings.ts';
import type { OAuthAppClient, TokenSet } from '../oauth/oauth-app-client.ts';
import { RefreshRejectedError } from '../vault/index.ts';
import { UpstreamError } from './errors.ts';
import type { UpstreamRegistrations } from './registrations.ts';
import { isSecureOrLoopback, requireSecure, sameOriginFetch } from './secure-fetch.ts';

/** Where Baton publishes its client ID metadata document (draft-ietf-oauth-client-id-metadata-document). */
export const CLIENT_METADATA_PATH = '/oauth/client-metadata.json';

export interface UpstreamOAuthDependencies {
  registrations: UpstreamRegistrations;
  /** Baton's public URL: the client ID metadata document's URL, and the redirect URIs, hang off it. */
  publicUrl: string;
}

interface Discovered {
  authorizationServerUrl: string;
  metadata: AuthorizationServerMetadata;
  /** The RFC 8707 resource indicator sent with every authorization and token request. */
  resource: string;
  /** The scopes the upstream says it uses (its protected resource metadata), else its authorization server's. */
  scopes: string[];
}

/**
 * Baton's OAuth client at an upstream MCP server's authorization server, found as the MCP authorization
 * spec says, with the official client SDK doing each step: the upstream's protected resource metadata
 * (RFC 9728) → its authorization server's metadata (RFC 8414 / OpenID Connect discovery) → a client id
 * (a pre-registered one when configured; else Baton's client ID metadata document where the server
 * supports it; else dynamic client registration, RFC 7591, stored and reused) → authorization code with
 * PKCE S256 and the `resource` parameter → refresh with `resource`. Every discovered endpoint must be
 * https (or loopback) and on the authorization server's own origin.
 */
export class UpstreamOAuthClient implements OAuthAppClient {
  readonly #id: string;
  readonly #upstream: UpstreamMcpServer;
  readonly #scopes: string[];
  readonly #deps: UpstreamOAuthDependencies;
  readonly #fetch = sameOriginFetch();
  #discovered: Promise<Discovered> | undefined;

  constructor(id: string, upstream: UpstreamMcpServer, scopes: string[], deps: UpstreamOAuthDependencies) {
    this.#id = id;
    this.#upstream = upstream;
    this.#scopes = scopes;
    this.#deps = deps;
  }

  async startAuthorization(redirectUri: string): Promise<{ url: URL; state: string; codeVerifier: string }> {
    const discovered = await this.#discover();
    const clientInformation = await this.#clientFor(discovered, redirectUri);
    const state = randomBytes(24).toString('base64url');
    const scope = (this.#scopes.length ? this.#scopes : discovered.scopes).join(' ') || undefined;
    const { authorizationUrl, codeVerifier } = await startAuthorization(discovered.authorizationServerUrl, {
      metadata: discovered.metadata,
      clientInformation,
      redirectUrl: redirectUri,
      scope,
      state,
      resource: discovered.resource,
    });
    return { url: authorizationUrl, state, codeVerifier };
  }

  async finishAuthorization(callback: URL, expected: { state: string; codeVerifier: string; redirectUri: string }): Promise<TokenSet | 'denied'> {
    const parameters = callback.searchParams;
    if (parameters.get('state') !== expected.state) throw new UpstreamError('authorization_failed', 'The authorization server answered with another state; start connecting again.');
    const error = parameters.get('error');
    if (error === 'access_denied') return 'denied';
    if (error) throw new UpstreamError('authorization_failed', `The authorization server refused: ${error}${parameters.get('error_description') ? ` (${parameters.get('error_description')})` : ''}.`);
    const code = parameters.get('code');
    if (!code) throw new UpstreamError('authorization_failed', 'The authorization server sent neither a code nor an error.');
    const discovered = await this.#discover();
    const clientInformation = await this.#clientFor(discovered, expected.redirectUri);
    const tokens = await exchangeAuthorization(discovered.authorizationServerUrl, {
      metadata: discovered.metadata,
      clientInformation,
      authorizationCode: code,
      iss: parameters.get('iss') ?? undefined,
      codeVerifier: expected.codeVerifier,
      redirectUri: expected.redirectUri,
      resource: discovered.resource,
      fetchFn: this.#fetch,
    });
    return toTokenSet(tokens);
  }

  /** The upstream's token endpoint, discovered (for the organisation's client-credentials token that lists its tools). */
  async tokenEndpoint(): Promise<string> {
    return (await this.#discover()).metadata.token_endpoint;
  }

  async refresh(refreshToken: string): Promise<TokenSet> {
    const discovered = await this.#discover();
    const clientInformation = await this.#clientFor(discovered, this.#redirectUri());
    try {
      const tokens = await refreshAuthorization(discovered.authorizationServerUrl, {
        metadata: discovered.metadata,
        clientInformation,
        refreshToken,
        resource: discovered.resource,
        fetchFn: this.#fetch,
      });
      return toTokenSet(tokens);
    } catch (error) {
      if (error instanceof OAuthError && (error.code === 'invalid_grant' || error.code === 'invalid_client')) {
        if (error.code === 'invalid_client') await this.#deps.registrations.forget(this.#id);
        throw new RefreshRejectedError(`${this.#id} rejected the refresh token (${error.code}${error.message ? `: ${error.message}` : ''}).`);
      }
      throw error;
    }
  }

  /** Discovery runs once per process and is reused; a failed attempt is forgotten so the next connect tries again. */
  #discover(): Promise<Discovered> {
    this.#discovered ??= this.#discoverNow().catch((error: unknown) => {
      this.#discovered = undefined;
      throw error;
    });
    return this.#discovered;
  }

  async #discoverNow(): Promise<Discovered> {
    const { url } = this.#upstream;
    if (this.#upstream.authorizationUrl && this.#upstream.tokenUrl) {
      // Configured endpoints (a pre-registered client): no discovery, the upstream's URL is the resource.
      requireSecure(this.#upstream.authorizationUrl, `${this.#id}'s authorization URL`);
      requireSecure(this.#upstream.tokenUrl, `${this.#id}'s token URL`);
      const issuer = new URL(this.#upstream.authorizationUrl).origin;
      const metadata = { issuer, authorization_endpoint: this.#upstream.authorizationUrl, token_endpoint: this.#upstream.tokenUrl, response_types_supported: ['code'] };
      return { authorizationServerUrl: issuer, metadata: metadata as AuthorizationServerMetadata, resource: url, scopes: [] };
    }
    let info;
    try {
      info = await discoverOAuthServerInfo(url, { fetchFn: this.#fetch });
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError('discovery_failed', `Could not discover ${this.#id}'s authorization server from ${url}: ${(error as Error).message}`, { cause: error });
    }
    const metadata = info.authorizationServerMetadata;
    if (!metadata) throw new UpstreamError('discovery_failed', `${this.#id} names the authorization server ${info.authorizationServerUrl}, which publishes no OAuth metadata.`);
    requireSecure(info.authorizationServerUrl, `${this.#id}'s authorization server`);
    const issuerOrigin = new URL(metadata.issuer).origin;
    for (const [field, endpoint] of Object.entries({
      authorization_endpoint: metadata.authorization_endpoint,
      token_endpoint: metadata.token_endpoint,
      registration_endpoint: metadata.registration_endpoint,
    })) {
      if (!endpoint) continue;
      requireSecure(endpoint, `${this.#id}'s ${field}`);
      if (new URL(endpoint).origin !== issuerOrigin) {
        throw new UpstreamError('foreign_endpoint', `${this.#id}'s authorization server ${metadata.issuer} sends its ${field} to another origin (${new URL(endpoint).origin}); refused.`);
      }
    }
    if (!metadata.code_challenge_methods_supported?.includes('S256')) {
      throw new UpstreamError('discovery_failed', `${this.#id}'s authorization server does not advertise PKCE S256, which the MCP authorization spec requires.`);
    }
    const resource = info.resourceMetadata?.resource ?? url;
    const scopes = info.resourceMetadata?.scopes_supported ?? metadata.scopes_supported?.filter((scope) => scope !== 'openid') ?? [];
    return { authorizationServerUrl: info.authorizationServerUrl, metadata, resource, scopes };
  }

  /** A configured client, else Baton's metadata document URL where supported, else a (stored) dynamic registration. */
  async #clientFor(discovered: Discovered, redirectUri: string): Promise<OAuthClientInformationMixed> {
    const configured = this.#upstream.client;
    if (configured) return { client_id: configured.clientId, ...(configured.clientSecret ? { client_secret: configured.clientSecret } : {}) };
    const documentUrl = `${this.#deps.publicUrl}${CLIENT_METADATA_PATH}`;
    if (discovered.metadata.client_id_metadata_document_supported && isSecureOrLoopback(documentUrl)) return { client_id: documentUrl };
    const { registrations } = this.#deps;
    const issuer = discovered.metadata.issuer;
    const stored = await registrations.find(this.#id, issuer, redirectUri);
    if (stored) return { client_id: stored.clientId, ...(stored.clientSecret ? { client_secret: stored.clientSecret } : {}) };
    if (!discovered.metadata.registration_endpoint) {
      throw new UpstreamError(
        'registration_refused',
        `${this.#id}'s authorization server offers neither client ID metadata documents nor dynamic registration; register Baton there and set mcpServers.${this.#id}.oauth.clientId.`,
      );
    }
    let registered;
    try {
      registered = await registerClient(discovered.authorizationServerUrl, {
        metadata: discovered.metadata,
        clientMetadata: clientMetadata([redirectUri]),
        fetchFn: this.#fetch,
      });
    } catch (error) {
      throw new UpstreamError('registration_refused', `${this.#id}'s authorization server refused Baton's registration: ${(error as Error).message}`, { cause: error });
    }
    await registrations.save(this.#id, { issuer, clientId: registered.client_id, clientSecret: registered.client_secret, redirectUri });
    return { client_id: registered.client_id, ...(registered.client_secret ? { client_secret: registered.client_secret } : {}) };
  }

  #redirectUri(): string {
    return oauthRedirectUri(this.#deps, this.#id);
  }
}

/** What Baton says about itself when it registers, and in its client ID metadata document. */
export function clientMetadata(redirectUris: string[], clientId?: string) {
  return {
    ...(clientId ? { client_id: clientId } : {}),
    client_name: 'Baton',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

function toTokenSet(tokens: OAuthTokens): TokenSet {
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: tokens.expires_in ? Date.now() + tokens.expires_in * 1000 : undefined,
    scopes: tokens.scope?.split(' ').filter(Boolean),
  };
}
