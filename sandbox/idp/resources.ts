import { errors, type AsymmetricSigningAlgorithm, type ResourceServer } from 'oidc-provider';

/**
 * The scopes a client may be granted for a resource (RFC 8707 `resource=`): the same for every resource,
 * MCP servers (whose tools ask for `mcp:tools`) and the sandbox CRM alike, which checks no scopes.
 */
export const resourceScopes = ['openid', 'profile', 'email', 'mcp:tools', 'offline_access'] as const;

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Any http(s) URL on loopback is a resource the sandbox issues tokens for: tests start MCP servers on
 * random ports, so there is no list to register them in. Each token is a JWT whose `aud` is exactly the
 * requested resource, signed with the provider's first key so a resource server can verify it offline
 * against the JWKS.
 */
export function resourceServerInfo(signing: { alg: AsymmetricSigningAlgorithm; kid: string }, accessTokenTtlSeconds: number) {
  return (_ctx: unknown, resource: string): ResourceServer => {
    if (!isSandboxResource(resource)) {
      throw new errors.InvalidTarget('The sandbox identity provider only issues tokens for http(s) resources on 127.0.0.1 or localhost.');
    }
    return {
      audience: resource,
      scope: resourceScopes.join(' '),
      accessTokenFormat: 'jwt',
      accessTokenTTL: accessTokenTtlSeconds,
      jwt: { sign: { alg: signing.alg, kid: signing.kid } },
    };
  };
}

function isSandboxResource(resource: string): boolean {
  const url = URL.parse(resource);
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:') && loopbackHosts.has(url.hostname) && !url.hash;
}
