/**
 * An OAuth-capable MCP client signs in on its own: 401 → protected resource metadata → the identity
 * provider's metadata → dynamic client registration → authorization code + PKCE with `resource` → token.
 */
import { Client, StreamableHTTPClientTransport, UnauthorizedError, type OAuthClientProvider, type OAuthDiscoveryState } from '@modelcontextprotocol/client';
import { approveConsentOverHttp } from '../sandbox/browserless-consent.ts';
import { gatewayStackForSuite, type GatewayStack } from './support/gateway-stack.ts';

let gs: GatewayStack;
gatewayStackForSuite((started) => (gs = started));

type Stored = Parameters<OAuthClientProvider['saveTokens']>[0];
type Registered = Parameters<NonNullable<OAuthClientProvider['saveClientInformation']>>[0];

/** What an MCP client keeps between runs, in memory; "opening the browser" records the URL. */
class RememberingProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  registered: Registered | undefined;
  #tokens: Stored | undefined;
  #verifier = '';
  #discovery: OAuthDiscoveryState | undefined;
  readonly redirectUrl = 'http://127.0.0.1/mcp-client/callback';
  get clientMetadata() {
    return { client_name: 'Test MCP client', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation = () => this.registered;
  saveClientInformation = (info: Registered) => void (this.registered = info);
  tokens = () => this.#tokens;
  saveTokens = (tokens: Stored) => void (this.#tokens = tokens);
  redirectToAuthorization = (url: URL) => void (this.authorizationUrl = url);
  saveCodeVerifier = (verifier: string) => void (this.#verifier = verifier);
  codeVerifier = () => this.#verifier;
  // Kept with the verifier, so the callback leg can check it talks to the same authorization server.
  saveDiscoveryState = (state: OAuthDiscoveryState) => void (this.#discovery = state);
  discoveryState = () => this.#discovery;
}

test('a client with only the MCP URL discovers the identity provider, registers, signs alice in and calls tools', async () => {
  const provider = new RememberingProvider();
  const first = new StreamableHTTPClientTransport(new URL(gs.mcpUrl), { authProvider: provider });
  await expect(new Client({ name: 'oauth-client', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);

  expect(provider.registered?.client_id).toEqual(expect.any(String));
  const authorize = provider.authorizationUrl!;
  expect(authorize.href.startsWith(`${gs.stack.sandbox.idpIssuer}/`)).toBe(true);
  expect(authorize.searchParams.get('resource')).toBe(gs.mcpUrl);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');

  // The person signs in and approves in the browser the client opened; the IdP redirects back with a code.
  const callback = await approveConsentOverHttp(authorize.href, { username: 'alice', password: 'alice' }, 'approve');
  await first.finishAuth(callback.searchParams); // code and iss (RFC 9207)

  const client = new Client({ name: 'oauth-client', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gs.mcpUrl), { authProvider: provider }));
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toContain('triage_pull_request');
  const paused = await client.callTool({ name: 'read_pull_request', arguments: { repo: 'acme/widgets', number: 1 } });
  expect(paused.structuredContent).toMatchObject({ status: 'auth_required' });
  expect(await gs.stack.stores.consents.get(new URL((paused.structuredContent as { authorizationUrls: { github: string } }).authorizationUrls.github).pathname.split('/').pop()!)).toMatchObject({
    subject: 'alice',
    tenant: 'acme',
  });
  await client.close();
}, 60_000);
