import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, isJsonContentType, isLegacyRequest, type AuthInfo } from '@modelcontextprotocol/server';
import express, { type RequestHandler, type Response, type Router } from 'express';
import type { SandboxContext } from '../context.ts';
import { readAuthorization } from '../credentials.ts';
import { logRequests, noteCredential } from '../request-log.ts';
import { createNotesAuthorizationServer, notesScopes, type NotesListingClient } from './notes-auth.ts';
import { NotesModes } from './notes-modes.ts';
import { NotesStore } from './notes-store.ts';
import { createNotesTokenVerifier, type NotesTokenRefusal } from './notes-tokens.ts';
import { createNotesMcpServer, notesAuthInfo, notesCallerOf } from './notes-tools.ts';
import { LegacySessions } from './legacy-sessions.ts';
import { bearerChallenge, protectedResourceMetadataUrl, protectedResourceRouter, type ProtectedResource } from './protected-resource.ts';
import { jsonRpcError } from './json-rpc.ts';

export const notesMcpPath = '/notes/mcp';

export interface NotesSandbox {
  /** Mounted at the sandbox root: the MCP endpoint, its protected resource metadata and its authorization server. */
  router: Router;
  /** `${sandboxUrl}/notes/mcp`. */
  mcpUrl: string;
  /** The authorization server's issuer, `${sandboxUrl}/notes-auth`. */
  issuer: string;
  store: NotesStore;
  modes: NotesModes;
  /** The open 2025-era sessions: their `Mcp-Session-Id`, whose, and how many notification (GET) streams they opened. */
  sessions(): { id: string; owner: string; notificationStreams: number }[];
  revokeUserGrants(user: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * The `notes` upstream: an MCP server protected the way the MCP authorization spec describes, with an
 * authorization server of its own. Both protocol eras are served at one endpoint: 2026-07-28 requests
 * by the SDK's per-request handler (change notifications through `subscriptions/listen`), 2025-era
 * requests with sessions (notifications on the session's GET stream).
 */
export async function createNotes(ctx: SandboxContext, options: { listingClient: NotesListingClient }): Promise<NotesSandbox> {
  const mcpUrl = `${ctx.publicUrl()}${notesMcpPath}`;
  const auth = await createNotesAuthorizationServer(ctx, { resource: mcpUrl, listingClient: options.listingClient });
  const resource: ProtectedResource = { resource: mcpUrl, authorizationServer: auth.issuer, scopes: notesScopes, name: 'Sandbox Notes' };
  const metadataUrl = protectedResourceMetadataUrl(mcpUrl);
  const verify = createNotesTokenVerifier({ issuer: auth.issuer, jwks: auth.jwks, resource: mcpUrl, grants: auth.grants, listingClientId: options.listingClient.clientId });
  const store = new NotesStore();
  const modes = new NotesModes();

  const build = () => createNotesMcpServer({ store, modes, delays: ctx.delays });
  const modern = createMcpHandler(() => build().server, { legacy: 'reject' });
  const legacy = new LegacySessions(build);
  modes.onToolsChanged(() => {
    for (const instance of legacy.instances()) instance.syncTools();
    modern.notify.toolsChanged();
  });

  const challenge = (res: Response, refusal?: { refusal: NotesTokenRefusal; description: string }) => {
    const invalid = refusal ? { error: 'invalid_token' as const, description: refusal.description } : undefined;
    res
      .status(401)
      .set('WWW-Authenticate', bearerChallenge(resource, invalid))
      .json(invalid ? { error: invalid.error, error_description: invalid.description } : { error: 'unauthorized', error_description: `A bearer token from ${auth.issuer} is required.` });
  };

  const authenticate: RequestHandler = async (req, res, next) => {
    const header = readAuthorization(req.get('authorization'));
    const token = header.scheme === 'bearer' ? header.value : null;
    if (!token) {
      noteCredential(res, { scheme: header.scheme, presented: header.value, user: null, valid: false, refusal: 'missing_token' });
      return challenge(res);
    }
    const check = await verify(token);
    if (check.status === 'refused') {
      noteCredential(res, { scheme: 'bearer', presented: token, user: check.user, valid: false, refusal: check.refusal });
      return challenge(res, check);
    }
    if (modes.challengedUsers.has(check.user)) {
      noteCredential(res, { scheme: 'bearer', presented: token, user: check.user, valid: false, refusal: 'challenge_mode' });
      return challenge(res, { refusal: 'challenge_mode', description: 'The access token is no longer accepted; authorize again.' });
    }
    noteCredential(res, { scheme: 'bearer', presented: token, user: check.user, valid: true });
    res.locals.notesAuth = notesAuthInfo(token, check, mcpUrl, metadataUrl);
    next();
  };

  const malformed: RequestHandler = (_req, res, next) => {
    if (!modes.malformed) return next();
    res.json({ notes: 'Malformed mode: this answer is JSON but not JSON-RPC.' });
  };

  const serve = toNodeHandler({
    fetch: async (request, options) => {
      const authInfo = options?.authInfo as AuthInfo;
      if (request.method === 'POST' && !isJsonContentType(request.headers.get('content-type'))) {
        return jsonRpcError(415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      }
      if (await isLegacyRequest(request)) return legacy.fetch(request, authInfo, notesCallerOf(authInfo).user);
      return modern.fetch(request, { authInfo });
    },
  });

  const router = express.Router();
  router.use(protectedResourceRouter(resource), auth.router);
  router.all(notesMcpPath, logRequests(ctx.requestLog, 'notes', ''), ctx.delays.middleware('notes', ''), authenticate, malformed, (req, res) => {
    Object.assign(req, { auth: res.locals.notesAuth as AuthInfo });
    return serve(req, res);
  });

  return {
    router,
    mcpUrl,
    issuer: auth.issuer,
    store,
    modes,
    sessions: () => legacy.describe(),
    revokeUserGrants: (user) => auth.revokeUserGrants(user),
    close: async () => {
      await legacy.close();
      await modern.close();
    },
  };
}
