import { defineTool, mcp, z } from 'baton/sdk';

// mcp(id): an upstream MCP server of baton.yaml's mcpServers, called as the caller (declared like apps).
export const fileNote = defineTool(
  { name: 'file_note', description: 'File a note in Notes.', input: z.object({ title: z.string(), body: z.string() }), mcpServers: ['notes'] },
  async ({ title, body }) => mcp('notes').call<{ id: string }>('create_note', { title, body }),
);
