import { z } from 'zod';

const id = z.union([z.string(), z.number().int()]);

/** One JSON-RPC 2.0 request or notification, as MCP sends it (batches were removed in 2025-06-18). */
const message = z.object({
  jsonrpc: z.literal('2.0', { error: 'must be "2.0"' }),
  method: z.string({ error: 'must be a string naming the MCP method' }).min(1),
  id: id.optional(),
  params: z.record(z.string(), z.unknown(), { error: 'must be an object when present' }).optional(),
});

const responseFromClient = z.object({ jsonrpc: z.literal('2.0'), id, result: z.unknown().optional(), error: z.unknown().optional() }).refine((m) => 'result' in m || 'error' in m);

/** Why a parsed body is not a JSON-RPC message the gateway serves, or undefined when it is. */
export function jsonRpcShapeProblem(body: unknown): string | undefined {
  if (Array.isArray(body)) return 'JSON-RPC batches are not supported by MCP (since 2025-06-18); send one message per request.';
  if (responseFromClient.safeParse(body).success) return undefined;
  const parsed = message.safeParse(body);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0]!;
  return `Not a JSON-RPC 2.0 request: ${issue.path.length ? `"${issue.path.join('.')}" ` : ''}${issue.message}.`;
}

/** The request id to echo in an error answer, when the body had a usable one. */
export function echoableId(body: unknown): string | number | null {
  const candidate = (body as { id?: unknown } | null)?.id;
  return typeof candidate === 'string' || (typeof candidate === 'number' && Number.isInteger(candidate)) ? candidate : null;
}
