import type Provider from 'oidc-provider';

/** Response fields that carry a credential: token responses (RFC 6749) and registrations (RFC 7591). */
const secretFields = ['access_token', 'refresh_token', 'id_token', 'client_secret', 'registration_access_token'];

/**
 * Reports every credential the identity provider hands out to the sandbox's list of issued secrets, so
 * tests that scan workflow histories and logs for leaked secrets cover inbound tokens too. Watching the
 * responses (rather than model events) also catches JWT access tokens, whose value no event carries.
 */
export function recordIssuedSecrets(provider: Provider, add: (secret: string) => void): void {
  provider.use(async (ctx, next) => {
    await next();
    const body: unknown = ctx.body;
    if (body && typeof body === 'object' && !Buffer.isBuffer(body)) {
      for (const field of secretFields) {
        const value = (body as Record<string, unknown>)[field];
        if (typeof value === 'string' && value) add(value);
      }
    }
    // Authorization codes travel in the redirect back to the client.
    const location = ctx.response.get('Location');
    const code = location ? URL.parse(location, 'http://placeholder.invalid')?.searchParams.get('code') : null;
    if (code) add(code);
  });
}
