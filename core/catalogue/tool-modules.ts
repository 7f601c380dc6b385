/**
 * The tool catalogue as a value: the modules `toolsFrom` in baton.yaml names (else Baton's demo tools), loaded
 * the same way by the gateway (for `tools/list` and checks) and bundled by the worker (workflows/entry.ts), so
 * the two can never disagree.
 */
import { pathToFileURL } from 'node:url';
import type { BatonSettings } from '../config/settings.ts';
import { batonFile } from '../runtime-files.ts';
import { resolveModules } from './module-specifiers.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';

/** Baton's own demo tools, used when the configuration names no `toolsFrom`. */
export const builtInToolsModule = batonFile('../../workflows/catalog.ts', import.meta.url);

export class ToolModuleError extends Error {
  override name = 'ToolModuleError';
}

/** The absolute files of the tool modules the configuration names, in order. */
export function toolModulePaths(settings: Pick<BatonSettings, 'config' | 'configFile' | 'secretsDir'>): string[] {
  const from = settings.config.toolsFrom;
  if (from === undefined) return [builtInToolsModule];
  return resolveModules('toolsFrom', typeof from === 'string' ? [from] : from, { baseDir: settings.secretsDir, configFile: settings.configFile }, (message) => new ToolModuleError(message));
}

/**
 * Imports the tool modules and returns their tools. A module that fails to load, exports no array of tools,
 * or a tool name used twice (in one module or two) stops the start with a message naming the files.
 */
export async function loadTools(paths: readonly string[]): Promise<CallableDefinition[]> {
  const tools: CallableDefinition[] = [];
  const origin = new Map<string, string>();
  for (const path of paths) {
    let loaded: Record<string, unknown>;
    try {
      loaded = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ToolModuleError(`The tool module ${path} failed to load: ${(error as Error).message}`, { cause: error });
    }
    for (const tool of toolsExportedBy(loaded, path)) {
      const first = origin.get(tool.name);
      if (first !== undefined) {
        throw new ToolModuleError(`Two tools are named "${tool.name}": one in ${first}, one in ${path}. Tool names must be unique; rename one.`);
      }
      origin.set(tool.name, path);
      tools.push(tool);
    }
  }
  return tools;
}

/** What a tool module exports: `tools` or its default export, an array of definitions from defineTool. */
export function toolsExportedBy(loaded: Record<string, unknown>, path: string): CallableDefinition[] {
  const exported = loaded.tools ?? loaded.default;
  if (!Array.isArray(exported) || !exported.every(isDefinition)) {
    throw new ToolModuleError(`The tool module ${path} must export an array of tools (made with defineTool) as \`tools\` or as its default export.`);
  }
  return exported;
}

function isDefinition(value: unknown): value is CallableDefinition {
  return typeof value === 'object' && value !== null && (value as CallableDefinition).kind === 'tool' && typeof (value as CallableDefinition).name === 'string';
}
