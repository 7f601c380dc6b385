/**
 * How an upstream MCP server's tools are named through Baton: `<upstream id>__<tool name>`. Pure, so
 * workflow code can use it too. Upstream ids never contain "__" (the configuration refuses it), so the
 * first "__" always separates the two.
 *
 * @example
 * upstreamToolName('notes', 'create_note'); // → 'notes__create_note'
 * parseUpstreamToolName('notes__create_note'); // → { server: 'notes', tool: 'create_note' }
 */
export const UPSTREAM_SEPARATOR = '__';

export function upstreamToolName(server: string, tool: string): string {
  return `${server}${UPSTREAM_SEPARATOR}${tool}`;
}

/** The upstream and its own tool name, or undefined for a name that is not an upstream tool's. */
export function parseUpstreamToolName(name: string): { server: string; tool: string } | undefined {
  const at = name.indexOf(UPSTREAM_SEPARATOR);
  if (at <= 0 || at + UPSTREAM_SEPARATOR.length >= name.length) return undefined;
  return { server: name.slice(0, at), tool: name.slice(at + UPSTREAM_SEPARATOR.length) };
}
