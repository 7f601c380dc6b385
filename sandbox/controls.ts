import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import type { SandboxContext } from './context.ts';
import type { CrmSandbox } from './crm.ts';
import type { HelpdeskSandbox } from './helpdesk.ts';
import type { RunningCrm } from './crm-credentials.ts';
import type { GithubSandbox } from './github.ts';
import type { JiraSandbox } from './jira.ts';
import type { SlackSandbox } from './slack.ts';
import { notesToolNames } from './upstreams/notes-modes.ts';
import type { NotesSandbox } from './upstreams/notes-server.ts';
import type { StatusSandbox } from './upstreams/status-server.ts';

const appName = z.enum(['github', 'slack', 'jira', 'crm', 'helpdesk', 'notes', 'status']);
const oauthAppName = z.enum(['github', 'slack', 'crm', 'helpdesk', 'notes']);

const settingsBody = z.object({ accessTokenTtlSeconds: z.number().int().positive() });
const revokeUserGrantsBody = z.object({ app: oauthAppName, user: z.string().min(1) });
const delayBody = z.object({
  app: appName,
  pathPrefix: z.string(),
  ms: z.number().int().nonnegative(),
  times: z.number().int().positive().default(1),
});
const notesChallengeBody = z.object({ user: z.string().min(1), enabled: z.boolean() });
const notesToolBody = z.object({ tool: z.enum(notesToolNames), enabled: z.boolean() });
const notesMalformedBody = z.object({ enabled: z.boolean() });
// 0 switches huge mode off; 64 MB is plenty to overflow any sane client limit.
const notesHugeBody = z.object({ megabytes: z.number().nonnegative().max(64) });
const requestsQuery = z.object({
  app: appName.optional(),
  since: z.coerce.number().int().nonnegative().optional(),
});

/**
 * The sandbox's own endpoints under /_sandbox, for tests and demos: read what the apps saw and hold, and
 * steer them (token lifetime, a user revoking an app, injected slowness). They are not part of any real
 * service, so they need no credentials.
 *
 * The upstream MCP servers (upstreams/):
 * - `POST /revoke-user-grants {app: "notes", user}`: the user removes the notes app; their refresh tokens
 *   then fail with invalid_grant and their outstanding access tokens are refused at once.
 * - `POST /delay {app: "notes" | "status", pathPrefix, ms, times}`: pathPrefix `/notes/mcp` (or
 *   `/status/mcp`) slows whole HTTP requests, `/notes-auth/token` the notes token endpoint, and
 *   `/notes/tools/<tool>` (or `/status/tools/<tool>`) one tool's execution only.
 * - `GET /notes`: every user's notes, the modes below, the URLs, the open 2025-era sessions (`{id,
 *   owner, notificationStreams}`). `GET /status`: the URL, key and incidents.
 * - `POST /notes/challenge {user, enabled}`: the notes server answers that user's requests with 401 and
 *   its `WWW-Authenticate` challenge even with a valid token.
 * - `POST /notes/tools {tool, enabled}`: adds (e.g. `archive_note`) or removes a tool; connected clients
 *   get notifications/tools/list_changed (2025 sessions on their GET stream, 2026-07-28 subscriptions).
 * - `POST /notes/malformed {enabled}`: authenticated requests get a JSON body that is not JSON-RPC.
 * - `POST /notes/huge {megabytes}`: list_notes answers with at least that many megabytes (0 = off).
 */
export function createControls(
  ctx: SandboxContext,
  apps: { github: GithubSandbox; slack: SlackSandbox; jira: JiraSandbox; crm: CrmSandbox; helpdesk: HelpdeskSandbox; notes: NotesSandbox; status: StatusSandbox },
  /** The CRM's credentials (RunningSandbox.crm), for tests that reach the sandbox only over HTTP. */
  crmCredentials: RunningCrm,
): Router {
  const router = express.Router();
  router.use(express.json());

  const invalid = (res: Response, error: z.ZodError) => {
    res.status(400).json({ error: 'invalid_request', issues: error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) });
  };

  router.get('/requests', (req, res) => {
    const query = requestsQuery.safeParse(req.query);
    if (!query.success) return invalid(res, query.error);
    res.json({ requests: ctx.requestLog.list(query.data) });
  });

  router.delete('/requests', (_req, res) => {
    ctx.requestLog.clear();
    res.json({ ok: true });
  });

  router.get('/state', (_req, res) => {
    res.json({ slackMessages: apps.slack.messages(), githubComments: apps.github.comments(), jiraIssues: apps.jira.issues() });
  });

  // A user would copy their API key from the CRM's settings page; a test reads everything here.
  router.get('/crm', (_req, res) => {
    res.json(crmCredentials);
  });

  // Apart from /state, whose shape existing tests pin down.
  router.get('/crm/notes', (_req, res) => {
    res.json({ notes: apps.crm.notes() });
  });

  // The help desk's credentials and tickets (with how each reporter authenticated, which its API does not show).
  router.get('/helpdesk', (_req, res) => {
    res.json({ ...apps.helpdesk.running, tickets: apps.helpdesk.tickets() });
  });

  router.get('/issued-secrets', (_req, res) => {
    res.json({ secrets: ctx.secrets.list() });
  });

  router.get('/settings', (_req, res) => {
    res.json(ctx.settings);
  });

  router.post('/settings', (req, res) => {
    const body = settingsBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    ctx.settings.accessTokenTtlSeconds = body.data.accessTokenTtlSeconds;
    res.json(ctx.settings);
  });

  router.post('/revoke-user-grants', async (req, res) => {
    const body = revokeUserGrantsBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    const { app, user } = body.data;
    const revokedGrants = app === 'notes' ? await apps.notes.revokeUserGrants(user) : apps[app].oauth.revokeUserGrants(user);
    res.json({ ok: true, revokedGrants });
  });

  // The delay rules still waiting for requests (a test waits until its held requests have arrived).
  router.get('/delay', (_req, res) => {
    res.json({ pending: ctx.delays.pending() });
  });

  router.post('/delay', (req, res) => {
    const body = delayBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    ctx.delays.add(body.data);
    res.json({ ok: true });
  });

  const { notes, status } = apps;
  const notesState = () => ({ mcpUrl: notes.mcpUrl, issuer: notes.issuer, notes: notes.store.all(), modes: notes.modes.describe(), sessions: notes.sessions() });

  router.get('/notes', (_req, res) => {
    res.json(notesState());
  });

  router.post('/notes/challenge', (req, res) => {
    const body = notesChallengeBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    if (body.data.enabled) notes.modes.challengedUsers.add(body.data.user);
    else notes.modes.challengedUsers.delete(body.data.user);
    res.json({ ok: true, modes: notes.modes.describe() });
  });

  router.post('/notes/tools', (req, res) => {
    const body = notesToolBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    const changed = notes.modes.setTool(body.data.tool, body.data.enabled);
    res.json({ ok: true, changed, modes: notes.modes.describe() });
  });

  router.post('/notes/malformed', (req, res) => {
    const body = notesMalformedBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    notes.modes.malformed = body.data.enabled;
    res.json({ ok: true, modes: notes.modes.describe() });
  });

  router.post('/notes/huge', (req, res) => {
    const body = notesHugeBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    notes.modes.hugeMegabytes = body.data.megabytes;
    res.json({ ok: true, modes: notes.modes.describe() });
  });

  router.get('/status', (_req, res) => {
    res.json({ mcpUrl: status.mcpUrl, apiKey: status.apiKey, incidents: status.incidents() });
  });

  return router;
}
