import { findDevInstance, whyNoInstance } from '../core/config/dev-instance.ts';
import { signInOverHttp } from '../sandbox/idp/headless-login.ts';
import { cliClient } from '../sandbox/server.ts';

export interface DevEndpoints {
  issuer: string;
  mcpUrl: string;
  /** What was assumed and how to change it, for stderr; empty when every URL came from a variable or a running instance. */
  notes: string[];
}

/**
 * Where a development Baton has its identity provider and MCP endpoint: each from its variable when set
 * (BATON_IDP_ISSUER or SANDBOX_PORT; BATON_PUBLIC_URL or PORT), else from the instance this project
 * directory is running (`.baton/instance.json`, written by `npm start`), else the defaults of `npm start`.
 */
export function devEndpoints(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): DevEndpoints {
  const fromEnv = {
    issuer: env.BATON_IDP_ISSUER ?? (env.SANDBOX_PORT ? `http://127.0.0.1:${env.SANDBOX_PORT}/idp` : undefined),
    publicUrl: env.BATON_PUBLIC_URL ?? (env.PORT ? `http://127.0.0.1:${env.PORT}` : undefined),
  };
  const mcpUrlOf = (publicUrl: string) => `${publicUrl.replace(/\/$/, '')}/mcp`;
  if (fromEnv.issuer && fromEnv.publicUrl) return { issuer: fromEnv.issuer, mcpUrl: mcpUrlOf(fromEnv.publicUrl), notes: [] };

  const lookup = findDevInstance(env, cwd);
  if (lookup.state === 'running') {
    const { instance } = lookup;
    return { issuer: fromEnv.issuer ?? instance.idpIssuer, mcpUrl: fromEnv.publicUrl ? mcpUrlOf(fromEnv.publicUrl) : instance.mcpUrl, notes: [] };
  }
  const issuer = fromEnv.issuer ?? 'http://127.0.0.1:9100/idp';
  const mcpUrl = mcpUrlOf(fromEnv.publicUrl ?? 'http://127.0.0.1:3000');
  const assumed = [
    ...(fromEnv.publicUrl ? [] : [`the MCP endpoint ${mcpUrl} (set BATON_PUBLIC_URL or PORT for another)`]),
    ...(fromEnv.issuer ? [] : [`the identity provider ${issuer} (set BATON_IDP_ISSUER or SANDBOX_PORT for another)`]),
  ];
  return { issuer, mcpUrl, notes: [`${whyNoInstance(lookup)}; assuming ${assumed.join(' and ')}.`] };
}

/**
 * A bearer token for Baton's MCP endpoint from the development identity provider, got the way an MCP
 * client gets one (authorization code + PKCE, `resource` = the endpoint), answering the sign-in form.
 * `onNote` gets what was assumed about where Baton runs (see devEndpoints).
 */
export async function devToken(user: string, options: { password?: string; scope?: string; env?: NodeJS.ProcessEnv; onNote?: (note: string) => void } = {}): Promise<string> {
  const { issuer, mcpUrl, notes } = devEndpoints(options.env);
  for (const note of notes) options.onNote?.(note);
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
