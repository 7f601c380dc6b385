/**
 * An app's actions served as MCP tools (`apps.<id>.expose`): each `<app>__<action>` a one-step Baton run as the
 * caller, shaped like an upstream MCP server's tool so the gateway lists, checks and answers it the same way
 * (the worker's callMcpTool makes the app call). An internal REST API becomes MCP tools with per-user auth in a
 * few lines of YAML.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { BatonSettings } from '../../core/config/settings.ts';
import { upstreamToolName } from '../../core/upstreams/tool-names.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import type { UpstreamToolDefinition } from '../upstreams/upstream-tools.ts';

export function exposedAppTools(settings: Pick<BatonSettings, 'apps'>, ownTools: readonly CallableDefinition[]): UpstreamToolDefinition[] {
  const taken = new Set(ownTools.map((tool) => tool.name));
  const tools: UpstreamToolDefinition[] = [];
  for (const app of settings.apps.values()) {
    if (!app.expose) continue;
    const names = app.expose === true ? Object.keys(app.connector.actions) : app.expose;
    for (const action of names) {
      const declared = app.connector.actions[action];
      if (!declared) throw new Error(`apps.${app.id}.expose names "${action}", which ${app.connector.displayName} has no action of; it has: ${Object.keys(app.connector.actions).join(', ')}.`);
      const name = upstreamToolName(app.id, action);
      if (taken.has(name)) throw new Error(`The tool "${name}" exists twice: a tool of toolsFrom and apps.${app.id}.expose; rename the tool or leave the action out of expose.`);
      const { $schema: _dialect, ...inputSchema } = z.toJSONSchema(declared.input, { io: 'input' }) as Record<string, unknown>;
      const tool: Tool = { name: action, description: `${declared.description} (${app.connector.displayName}, as you)`, inputSchema: inputSchema as Tool['inputSchema'] };
      tools.push({
        kind: 'tool',
        name,
        description: tool.description!,
        input: declared.input,
        apps: [],
        mcpServers: [app.id],
        uses: [],
        body: () => Promise.reject(new Error(`${name} runs in the worker, as a workflow`)),
        upstream: { server: app.id, tool },
      });
    }
  }
  return tools;
}
