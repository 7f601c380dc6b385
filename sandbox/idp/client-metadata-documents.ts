import type { AdapterPayload } from 'oidc-provider';

/** A document anyone can read cannot hold a shared secret, so neither can the client it describes. */
const sharedSecretMethods = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): an MCP client may
 * use the URL of a JSON document as its client_id instead of registering, and the document gives its
 * redirect_uris and the rest of its metadata.
 *
 * oidc-provider supports this itself only for https client ids; the sandbox runs on plain http, so it
 * resolves them here, from the storage adapter's client lookup. http is accepted on loopback only.
 * Any failure means "no such client" (invalid_client), as for an unknown registered id.
 */
export async function fetchClientMetadataDocument(clientId: string): Promise<AdapterPayload | undefined> {
  if (!isClientIdUrl(clientId)) return undefined;
  let document: unknown;
  try {
    const response = await fetch(clientId, { headers: { Accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(2500) });
    if (response.status !== 200) return undefined;
    document = await response.json();
  } catch {
    return undefined;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const metadata = document as AdapterPayload;
  if (metadata.client_id !== clientId || 'client_secret' in metadata) return undefined;
  const method = metadata.token_endpoint_auth_method ?? 'none';
  if (sharedSecretMethods.has(method)) return undefined;
  return { ...metadata, token_endpoint_auth_method: method };
}

/** An https URL, or http on loopback, with a path, and no fragment or credentials (the draft's rules). */
export function isClientIdUrl(value: string): boolean {
  const url = URL.parse(value);
  if (!url || url.hash || url.username || url.password || url.pathname === '/') return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname));
}
