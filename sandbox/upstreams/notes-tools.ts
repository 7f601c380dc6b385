import {
  acceptedContent,
  inputRequired,
  inputResponse,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type AuthInfo,
  type CallToolResult,
  type RegisteredTool,
  type ScopeChallengeHandler,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { DelayRules } from '../delays.ts';
import type { NotesModes, NotesToolName } from './notes-modes.ts';
import type { NotesStore } from './notes-store.ts';

/** Who a request is from, as the HTTP layer put it in `AuthInfo.extra` after checking the token. */
export interface NotesCaller {
  user: string;
  scopes: string[];
}

export function notesAuthInfo(token: string, check: { user: string; clientId: string; scopes: string[]; expiresAt: number }, resource: string, resourceMetadataUrl: string): AuthInfo {
  const caller: NotesCaller = { user: check.user, scopes: check.scopes };
  return { token, clientId: check.clientId, scopes: check.scopes, expiresAt: check.expiresAt, resource: new URL(resource), resourceMetadataUrl, extra: { caller } };
}

export function notesCallerOf(authInfo: AuthInfo | undefined): NotesCaller {
  const caller = authInfo?.extra?.caller as NotesCaller | undefined;
  // The HTTP layer authenticates every request before MCP sees it; reaching here without is a wiring bug.
  if (!caller) throw new Error('Request reached the notes MCP server unauthenticated.');
  return caller;
}

/** The caller of this very request (a 2025-era session outlives tokens, so never the one it started with). */
function callerOf(ctx: ServerContext): NotesCaller {
  const caller = notesCallerOf(ctx.http?.authInfo);
  if (caller.user.startsWith('client:')) throw new ProtocolError(ProtocolErrorCode.InvalidRequest, 'A client token may list the tools but not call them: every tool acts as a signed-in user.');
  return caller;
}

/** RFC 6750 §3.1 step-up: 403 insufficient_scope naming every scope the client needs, the ones it has included. */
function needsScope(scope: string): ScopeChallengeHandler {
  return ({ authInfo }) => {
    if (!authInfo || authInfo.scopes.includes(scope)) return undefined;
    return { scopes: [scope, ...authInfo.scopes.filter((held) => held !== scope)], errorDescription: `This tool needs the ${scope} scope` };
  };
}

function structured(value: Record<string, unknown>, text = JSON.stringify(value)): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: value };
}

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

const noteSummary = z.object({ id: z.string(), title: z.string(), owner: z.string() }).strict();
const empty = z.object({}).strict();

export interface NotesMcpServer {
  server: McpServer;
  /** Enables exactly the tools the modes list; a connected 2025-era session is sent tools/list_changed. */
  syncTools(): void;
}

/**
 * The notes MCP server's tools, each answering as the user whose token the request carried. Every tool is
 * registered and the ones the modes do not list are disabled, so adding or removing one at runtime is an
 * enable or disable (which the SDK announces to a connected session).
 */
export function createNotesMcpServer(deps: { store: NotesStore; modes: NotesModes; delays: DelayRules }): NotesMcpServer {
  const { store, modes } = deps;
  const server = new McpServer(
    { name: 'sandbox-notes', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true } }, instructions: 'Notes of the signed-in user: create and list them. Each user sees only their own.' },
  );
  // Injected slowness per tool (POST /_sandbox/delay with app "notes", pathPrefix "/notes/tools/<name>").
  const slowDown = async (name: NotesToolName) => {
    const ms = deps.delays.take('notes', `/notes/tools/${name}`);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  };
  const tools = new Map<NotesToolName, RegisteredTool>();

  tools.set(
    'create_note',
    server.registerTool(
      'create_note',
      {
        title: 'Create a note',
        description: 'Creates a note owned by the signed-in user.',
        inputSchema: z.object({ title: z.string().min(1).max(200), body: z.string() }).strict(),
        outputSchema: z.object({ id: z.string(), title: z.string(), body: z.string(), owner: z.string() }).strict(),
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
        scopeChallenge: needsScope('notes:write'),
      },
      async ({ title, body }, ctx) => {
        await slowDown('create_note');
        return structured({ ...store.create(callerOf(ctx).user, title, body) });
      },
    ),
  );

  tools.set(
    'list_notes',
    server.registerTool(
      'list_notes',
      {
        title: 'List my notes',
        description: "Lists the signed-in user's notes (never anyone else's).",
        inputSchema: empty,
        outputSchema: z.object({ notes: z.array(noteSummary) }).strict(),
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
        scopeChallenge: needsScope('notes:read'),
      },
      async (_args, ctx) => {
        await slowDown('list_notes');
        const { user } = callerOf(ctx);
        const notes = store.listFor(user).map(({ id, title, owner }) => ({ id, title, owner }));
        if (modes.hugeMegabytes <= 0) return structured({ notes });
        const padding = hugePadding(user, modes.hugeMegabytes);
        return structured({ notes: [...notes, ...padding] }, `Huge mode: ${notes.length} notes and ${padding.length} padding entries, at least ${modes.hugeMegabytes} MB.`);
      },
    ),
  );

  tools.set(
    'whoami',
    server.registerTool(
      'whoami',
      {
        title: 'Who am I',
        description: 'The user and scopes of the access token this call carried.',
        inputSchema: empty,
        outputSchema: z.object({ user: z.string(), scopes: z.array(z.string()) }).strict(),
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async (_args, ctx) => {
        await slowDown('whoami');
        const { user, scopes } = callerOf(ctx);
        return structured({ user, scopes });
      },
    ),
  );

  tools.set(
    'fail_softly',
    server.registerTool(
      'fail_softly',
      {
        title: 'Fail softly',
        description: 'Always answers with a tool-level error (isError), never a protocol error.',
        inputSchema: empty,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async () => {
        await slowDown('fail_softly');
        return toolError('fail_softly always fails: this is a tool-level error the model should read, not a protocol error.');
      },
    ),
  );

  // Asks the user to confirm (a 2026-07-28 input_required form elicitation) before it deletes anything.
  const confirmation = z.object({ confirm: z.boolean().describe('Delete the note for good') });
  tools.set(
    'delete_note',
    server.registerTool(
      'delete_note',
      {
        title: 'Delete a note',
        description: 'Deletes one of your notes for good, after you confirm.',
        inputSchema: z.object({ id: z.string().min(1) }).strict(),
        outputSchema: z.object({ id: z.string(), deleted: z.literal(true) }).strict(),
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
        scopeChallenge: needsScope('notes:write'),
      },
      async ({ id }, ctx) => {
        await slowDown('delete_note');
        const { user } = callerOf(ctx);
        const note = store.listFor(user).find((candidate) => candidate.id === id);
        if (!note) return toolError(`You have no note "${id}".`);
        if (ctx.mcpReq.envelope === undefined) return toolError('delete_note asks you to confirm, which needs an MCP 2026-07-28 client; nothing was deleted.');
        const state = `confirm-delete:${id}`;
        const answer = inputResponse(ctx.mcpReq.inputResponses, 'confirm');
        if (answer.kind === 'elicit' && answer.action !== 'accept') return toolError(`Not deleted: you answered "${answer.action}".`);
        // The answer counts only with the state this server handed out for this very note.
        const confirmed = ctx.mcpReq.requestState() === state ? acceptedContent(ctx.mcpReq.inputResponses, 'confirm', confirmation) : undefined;
        if (!confirmed) {
          return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: `Delete the note "${note.title}" for good?`, requestedSchema: confirmation }) }, requestState: state });
        }
        if (!confirmed.confirm) return toolError('Not deleted: you did not confirm.');
        store.delete(user, id);
        return structured({ id, deleted: true });
      },
    ),
  );

  tools.set(
    'archive_note',
    server.registerTool(
      'archive_note',
      {
        title: 'Archive a note',
        description: 'Archives one of your notes, so list_notes no longer shows it.',
        inputSchema: z.object({ id: z.string().min(1) }).strict(),
        outputSchema: z.object({ id: z.string(), archived: z.literal(true) }).strict(),
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        scopeChallenge: needsScope('notes:write'),
      },
      async ({ id }, ctx) => {
        await slowDown('archive_note');
        const note = store.archive(callerOf(ctx).user, id);
        return note ? structured({ id: note.id, archived: true }) : toolError(`You have no note "${id}".`);
      },
    ),
  );

  const syncTools = () => {
    for (const [name, tool] of tools) {
      const wanted = modes.hasTool(name);
      if (wanted && !tool.enabled) tool.enable();
      else if (!wanted && tool.enabled) tool.disable();
    }
  };
  syncTools();
  return { server, syncTools };
}

/** At least `megabytes` MB of note summaries, owned by the caller so they still match the output schema. */
function hugePadding(owner: string, megabytes: number): { id: string; title: string; owner: string }[] {
  const title = 'x'.repeat(1000);
  const count = Math.ceil((megabytes * 1024 * 1024) / title.length);
  return Array.from({ length: count }, (_, index) => ({ id: `padding-${index + 1}`, title, owner }));
}
