import type { TokenRevocation } from './types.ts';

/** HTTP Basic client authentication, form-encoding each half first (RFC 6749 §2.3.1). */
export function basicClientAuth(client: { clientId: string; clientSecret: string }): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`;
}

/**
 * RFC 7009 token revocation: the client authenticates with Basic and posts the token. The refresh token
 * is sent when there is one, since revoking it ends the whole grant (§2.1); 200 means revoked, including
 * a token the server no longer knows (§2.2).
 */
export const rfc7009Revocation: TokenRevocation = {
  toRequest: ({ endpoints, client, accessToken, refreshToken }) => {
    if (!endpoints.revokeUrl) return { unavailable: 'no revocation URL is configured' };
    if (!client) return { unavailable: 'no OAuth client is configured to authenticate the revocation' };
    const token = refreshToken ?? accessToken;
    return {
      method: 'POST',
      url: endpoints.revokeUrl,
      headers: { Authorization: basicClientAuth(client), 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: refreshToken ? 'refresh_token' : 'access_token' }).toString(),
    };
  },
  readAnswer: (status, body) => {
    if (status === 200) return { ok: true };
    const error = body && typeof body === 'object' && typeof (body as Record<string, unknown>).error === 'string' ? `: ${(body as Record<string, string>).error}` : '';
    return { ok: false, message: `the revocation endpoint answered ${status}${error}` };
  },
};
