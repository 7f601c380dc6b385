/** Raw JSON-RPC over HTTP to /mcp, for what a well-behaved MCP client would never send. */
export async function postMcp(mcpUrl: string, body: string | object, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  // Legacy-era answers may come as one server-sent event; the JSON is its data line.
  const dataLine = text.startsWith('event:') ? text.split('\n').find((line) => line.startsWith('data: ')) : undefined;
  let json: unknown;
  try {
    json = JSON.parse(dataLine ? dataLine.slice('data: '.length) : text);
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}

export const toolsCall = (name: string, args: unknown, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
