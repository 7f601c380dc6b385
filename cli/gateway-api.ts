/**
 * The user-facing commands (`baton audit`, `baton runs`, `baton connections` without `--user`) act as the
 * person whose token they hold, through the gateway's API: they see and change exactly what that person
 * may, nothing an operator's database access would add.
 */
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
  const base = options.url ?? process.env.BATON_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const url = new URL(path, base);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  let response: Response;
  try {
    response = await fetch(url, { method, headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    throw new GatewayApiError(`cannot reach the gateway at ${base} (${String((error as Error).cause ?? (error as Error).message)}); is it running? Set BATON_URL or --url.`);
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { message?: string; error_description?: string };
    throw new GatewayApiError(`${response.status}: ${body.message ?? body.error_description ?? response.statusText}`);
  }
  return response;
}

export const apiOptions = { url: { type: 'string' }, token: { type: 'string' } } as const;
