/** What tool authors import: define tools and callables, call apps and children, read the caller. */
export { defineTool, defineCallable, requiredApps, collectDefinitions, type CallableDefinition } from './define.ts';
export { app, type AppHandle } from './app.ts';
export { mcp, type McpHandle } from './mcp.ts';
export { child } from './child.ts';
export { currentIdentity } from './identity.ts';
// Tool code's zod: the same copy Baton validates with (and shares across a worker's workflows).
export { z } from 'zod';
