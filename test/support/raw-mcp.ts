import type { JsonRpcResponse } from '@modelcontextprotocol/ext-tasks/client';
import type { JsonValue } from '@modelcontextprotocol/ext-tasks/core';

/** The body field the 2026-07-28 `Mcp-Name` header mirrors, per method. */
const nameSource: Record<string, string> = { 'tools/call': 'name', 'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId' };

let nextId = 1;

/**
 * Sends one 2026-07-28 JSON-RPC request over Streamable HTTP with the standard headers (protocol version,
 * `Mcp-Method`, `Mcp-Name`) — what `@modelcontextprotocol/ext-tasks`' client needs as its `rawDispatch`, since the
 * SDK client (2.4.0) refuses task results — and reads the answer, JSON or an SSE stream. `headers` override the
 * standard ones (a test sends a wrong `Mcp-Name` that way).
 */
export function rawDispatchFor(mcpUrl: string, token: string, headers: Record<string, string> = {}) {
  return async (request: JsonValue): Promise<JsonRpcResponse> => {
    const { method, params } = request as { method: string; params?: Record<string, unknown> };
    const name = nameSource[method] && params?.[nameSource[method]];
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': '2026-07-28',
        'Mcp-Method': method,
        ...(typeof name === 'string' ? { 'Mcp-Name': name } : {}),
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, ...(request as object) }),
    });
    const text = await response.text();
    const body = (response.headers.get('content-type') ?? '').includes('text/event-stream') ? lastSseMessage(text) : text;
    const message = JSON.parse(body) as { result?: JsonValue; error?: { code: number; message: string; data?: JsonValue } };
    return message.error ? { kind: 'error', error: message.error } : { kind: 'result', result: message.result! };
  };
}

/** The JSON-RPC response in an SSE stream (its last `data:` event; notifications come before it). */
function lastSseMessage(stream: string): string {
  const events = stream
    .split(/\n\n/)
    .map((event) =>
      event
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join('\n'),
    )
    .filter((data) => data !== '');
  return events.at(-1) ?? '{}';
}
