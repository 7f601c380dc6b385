import type { z } from 'zod';

/**
 * A unit of composite work that runs as its own Temporal workflow: a `tool` is exposed to agents, a
 * `callable` only runs as a child of another tool or callable. Both declare the apps they call
 * themselves and the callables they start (`uses`), so the apps a tool needs are known without running it.
 */
/** MCP tool annotations: hints for clients about what a tool does (never trusted for security). */
export interface ToolHints {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface CallableDefinition<Input = any, Output = any> {
  kind: 'tool' | 'callable';
  /** Also the Temporal workflow type, so runs read well in the Temporal UI. */
  name: string;
  /** Human-friendly name for tool lists. */
  title?: string;
  description: string;
  annotations?: ToolHints;
  input: z.ZodType<Input>;
  apps: readonly string[];
  /** The upstream MCP servers it calls itself (`mcpServers` in baton.yaml), asked for with the apps in consent pre-flight. */
  mcpServers: readonly string[];
  uses: readonly CallableDefinition[];
  body: (input: Input) => Promise<Output>;
}

export interface CallableSpec<Schema extends z.ZodType> {
  name: string;
  title?: string;
  description: string;
  annotations?: ToolHints;
  input: Schema;
  apps?: readonly string[];
  mcpServers?: readonly string[];
  uses?: readonly CallableDefinition[];
}

const validName = /^[a-z][a-z0-9_]{0,63}$/;

function define<Schema extends z.ZodType, Output>(
  kind: CallableDefinition['kind'],
  spec: CallableSpec<Schema>,
  body: (input: z.infer<Schema>) => Promise<Output>,
): CallableDefinition<z.infer<Schema>, Output> {
  if (!validName.test(spec.name)) {
    throw new Error(`"${spec.name}" is not a valid name: use lower-case letters, digits and underscores (MCP tool names).`);
  }
  return Object.freeze({
    kind,
    name: spec.name,
    title: spec.title,
    description: spec.description,
    annotations: spec.annotations,
    input: spec.input as z.ZodType<z.infer<Schema>>,
    apps: spec.apps ?? [],
    mcpServers: spec.mcpServers ?? [],
    uses: spec.uses ?? [],
    body,
  });
}

/** A tool agents can call over MCP. */
export function defineTool<Schema extends z.ZodType, Output>(spec: CallableSpec<Schema>, body: (input: z.infer<Schema>) => Promise<Output>) {
  return define('tool', spec, body);
}

/** A building block that runs only as a child workflow of a tool or another callable. */
export function defineCallable<Schema extends z.ZodType, Output>(spec: CallableSpec<Schema>, body: (input: z.infer<Schema>) => Promise<Output>) {
  return define('callable', spec, body);
}

/** Every definition reachable from `roots` through `uses`, each once (cycles are tolerated). */
export function collectDefinitions(roots: readonly CallableDefinition[]): Map<string, CallableDefinition> {
  const found = new Map<string, CallableDefinition>();
  const visit = (definition: CallableDefinition): void => {
    const known = found.get(definition.name);
    if (known === definition) return;
    if (known) throw new Error(`Two different callables are named "${definition.name}"; names must be unique.`);
    found.set(definition.name, definition);
    definition.uses.forEach(visit);
  };
  roots.forEach(visit);
  return found;
}

/** The upstream MCP servers a tool (with every descendant) declares. */
export function requiredMcpServers(definition: CallableDefinition): string[] {
  return [...new Set([...collectDefinitions([definition]).values()].flatMap((reachable) => reachable.mcpServers))].sort();
}

/**
 * The apps and upstream MCP servers a tool may call: its own and every descendant's, computed from the
 * declarations alone. Both are connected the same way (an upstream MCP server is an app to the vault).
 */
export function requiredApps(definition: CallableDefinition): string[] {
  const apps = new Set<string>();
  for (const reachable of collectDefinitions([definition]).values()) [...reachable.apps, ...reachable.mcpServers].forEach((app) => apps.add(app));
  return [...apps].sort();
}
