/** A JSON-RPC error response body (no request id: these answers come before any request was read). */
export function jsonRpcErrorBody(code: number, message: string): { jsonrpc: '2.0'; id: null; error: { code: number; message: string } } {
  return { jsonrpc: '2.0', id: null, error: { code, message } };
}

/** The same as a web `Response`, for the fetch-shaped MCP handlers. */
export function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json(jsonRpcErrorBody(code, message), { status });
}
