import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import type { SandboxContext } from './context.ts';
import type { CrmSandbox } from './crm.ts';
import type { RunningCrm } from './crm-credentials.ts';
import type { GithubSandbox } from './github.ts';
import type { JiraSandbox } from './jira.ts';
import type { SlackSandbox } from './slack.ts';

const appName = z.enum(['github', 'slack', 'jira', 'crm']);
const oauthAppName = z.enum(['github', 'slack', 'crm']);

const settingsBody = z.object({ accessTokenTtlSeconds: z.number().int().positive() });
const revokeUserGrantsBody = z.object({ app: oauthAppName, user: z.string().min(1) });
const delayBody = z.object({
  app: appName,
  pathPrefix: z.string(),
  ms: z.number().int().nonnegative(),
  times: z.number().int().positive().default(1),
});
const requestsQuery = z.object({
  app: appName.optional(),
  since: z.coerce.number().int().nonnegative().optional(),
});

/**
 * The sandbox's own endpoints under /_sandbox, for tests and demos: read what the apps saw and hold, and
 * steer them (token lifetime, a user revoking an app, injected slowness). They are not part of any real
 * service, so they need no credentials.
 */
export function createControls(
  ctx: SandboxContext,
  apps: { github: GithubSandbox; slack: SlackSandbox; jira: JiraSandbox; crm: CrmSandbox },
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

  router.post('/revoke-user-grants', (req, res) => {
    const body = revokeUserGrantsBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    res.json({ ok: true, revokedGrants: apps[body.data.app].oauth.revokeUserGrants(body.data.user) });
  });

  router.post('/delay', (req, res) => {
    const body = delayBody.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    ctx.delays.add(body.data);
    res.json({ ok: true });
  });

  return router;
}
