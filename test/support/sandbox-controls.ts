import type { LoggedRequest } from '../../sandbox/server.ts';

/** A sandbox control call (`/_sandbox/...`): GET, or POST with a JSON body; must answer 200. */
export async function sandboxControl(sandboxUrl: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(new URL(`/_sandbox${path}`, sandboxUrl), {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return response.json();
}

/** The sequence number of the newest request-log entry, to ask only for what comes after. */
export async function lastLogSeq(sandboxUrl: string): Promise<number> {
  const { requests } = (await sandboxControl(sandboxUrl, '/requests')) as { requests: LoggedRequest[] };
  return requests.at(-1)?.seq ?? 0;
}
