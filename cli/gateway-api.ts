/**
 * The user-facing commands (`baton audit`, `baton runs`, `baton connections` without `--user`) act as the
 * person whose token they hold, through the gateway's API: they see and change exactly what that person
 * may, nothing an operator's database access would add.
 */
import { findDevInstance, whyNoInstance } from '../core/config/dev-instance.ts';

export interface ApiOptions {
  url?: string;
  token?: string;
}

export class GatewayApiError extends Error {
  override name = 'GatewayApiError';
}

export async function callGateway(options: ApiOptions, path: string, { method = 'GET', query = {} }: { method?: string; query?: Record<string, string | undefined> } = {}): Promise<Response> {
  const token = options.token ?? process.env.BATON_TOKEN;
  if (!token) throw new GatewayApiError('no token: set BATON_TOKEN or pass --token (for the sandbox: export BATON_TOKEN=$(npx baton token alice)).');
  const { url: base, note } = gatewayUrl(options.url);
  if (note) console.error(`baton: ${note}`);
  const url = new URL(path, base);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  let response: Response;
  try {
    response = await fetch(url, { method, headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    // fetch's own error says only "fetch failed"; its cause says why (e.g. "Error: connect ECONNREFUSED …").
    const { cause, message } = error as Error;
    const why = cause instanceof Error ? String(cause) : typeof cause === 'string' ? cause : message;
    throw new GatewayApiError(`cannot reach the gateway at ${base} (${why}); is it running? Set BATON_URL or --url.`);
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { message?: string; error_description?: string };
    throw new GatewayApiError(`${response.status}: ${body.message ?? body.error_description ?? response.statusText}`);
  }
  return response;
}

/**
 * The gateway the commands talk to: --url, else BATON_URL, else PORT on loopback, else the instance this
 * project directory is running (`.baton/instance.json`, written by `npm start`), else `npm start`'s
 * default — with a note saying so for the last.
 */
export function gatewayUrl(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): { url: string; note?: string } {
  const given = explicit ?? env.BATON_URL ?? (env.PORT ? `http://127.0.0.1:${env.PORT}` : undefined);
  if (given) return { url: given };
  const lookup = findDevInstance(env, cwd);
  if (lookup.state === 'running') return { url: lookup.instance.publicUrl };
  const url = 'http://127.0.0.1:3000';
  return { url, note: `${whyNoInstance(lookup)}; assuming the gateway at ${url} (set BATON_URL or --url for another).` };
}

export const apiOptions = { url: { type: 'string' }, token: { type: 'string' } } as const;
