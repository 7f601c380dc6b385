import { signInOverHttp } from '../sandbox/idp/headless-login.ts';
import { cliClient } from '../sandbox/server.ts';

/** Where a development Baton (`npm start`) has its identity provider and MCP endpoint, from the environment. */
export function devEndpoints(env: NodeJS.ProcessEnv = process.env): { issuer: string; mcpUrl: string } {
  return {
    issuer: env.BATON_IDP_ISSUER ?? `http://127.0.0.1:${env.SANDBOX_PORT ?? 9100}/idp`,
    mcpUrl: `${env.BATON_PUBLIC_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`}/mcp`,
  };
}

/**
 * A bearer token for Baton's MCP endpoint from the development identity provider, got the way an MCP
 * client gets one (authorization code + PKCE, `resource` = the endpoint), answering the sign-in form.
 */
export async function devToken(user: string, options: { password?: string; scope?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const { issuer, mcpUrl } = devEndpoints(options.env);
  try {
    const { accessToken } = await signInOverHttp({
      issuer,
      clientId: cliClient.clientId,
      redirectUri: cliClient.redirectUri,
      resource: mcpUrl,
      scope: options.scope ?? 'openid profile email mcp:tools',
      username: user,
      password: options.password ?? user,
    });
    return accessToken;
  } catch (error) {
    const reason = (error as Error).message;
    const unreachable = /fetch failed|ECONNREFUSED/.test(`${reason} ${String((error as Error).cause)}`);
    throw new Error(`could not get a token for ${user}: ${reason}.${unreachable ? ` Is Baton running? Start it with \`npm start\` (the identity provider is expected at ${issuer}).` : ''}`);
  }
}
