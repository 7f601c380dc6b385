import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { SandboxContext } from './context.ts';
import { readAuthorization } from './credentials.ts';
import { createOAuthServer, type OAuthClient, type OAuthServer } from './oauth-server.ts';
import { observedEndpoint, stringParams } from './pipeline.ts';
import { noteCredential } from './request-log.ts';
import { findUser, slackTeam, type DemoUser } from './users.ts';

/** The demo workspace's public channels. */
const channels: readonly { id: string; name: string }[] = [
  { id: 'C0TRIAGE', name: 'triage' },
  { id: 'C0GENERAL', name: 'general' },
];

export interface SlackMessageSnapshot {
  channel: string;
  ts: string;
  text: string;
  /** The Slack user id of the author, as in Slack's message objects. */
  user: string;
}

export interface SlackSandbox {
  router: Router;
  oauth: OAuthServer;
  messages(): SlackMessageSnapshot[];
}

/** Slack: the OAuth pages under /slack and the Web API (slack.com/api) under /slack/api. */
export function createSlack(ctx: SandboxContext, client: OAuthClient): SlackSandbox {
  const oauth = createOAuthServer(ctx, {
    app: 'slack',
    displayName: 'Slack',
    clients: [client],
    paths: {
      prefix: '/slack',
      signIn: '/slack/login',
      authorize: '/slack/oauth/v2/authorize',
      token: '/slack/api/oauth.v2.access',
      revoke: '/slack/api/auth.revoke',
    },
    endpointBase: '/slack/api',
    tokenPrefixes: { access: 'xoxp-', refresh: 'xoxe-1-' },
    tokenResponseExtras: (user) => ({ ok: true, authed_user: { id: user.slack.id }, team: { id: slackTeam.id, name: slackTeam.name } }),
    errorResponseExtras: { ok: false },
    revokeResponse: { ok: true, revoked: true },
    bearerRevocation: true,
  });
  const messages: SlackMessageSnapshot[] = [];
  const timestamps = createTimestampClock();

  const authenticate: RequestHandler = (req, res, next) => {
    const header = readAuthorization(req.get('authorization'));
    const token = header.scheme === 'bearer' ? header.value : null;
    const check = token ? oauth.checkAccessToken(token) : undefined;
    const user = check?.status === 'valid' ? findUser(check.grant.user) : undefined;
    noteCredential(res, { scheme: header.scheme, presented: header.value, user: user?.username ?? null, valid: user !== undefined });
    if (user) {
      res.locals.slackUser = user;
      return next();
    }
    const error = !token ? 'not_authed' : check?.status === 'expired' ? 'token_expired' : check?.status === 'revoked' ? 'token_revoked' : 'invalid_auth';
    res.json({ ok: false, error });
  };
  const userOf = (res: Response) => res.locals.slackUser as DemoUser;
  // Web API methods take their arguments from the query string, a form body or a JSON body alike.
  const argsOf = (req: Request) => ({ ...stringParams(req.query), ...stringParams(req.body) });

  const findChannel = (reference: string | undefined) => {
    const name = reference?.replace(/^#/, '');
    return channels.find((channel) => channel.id === reference || channel.name === name);
  };

  const api = express.Router();
  api.use(authenticate, ctx.idempotency.middleware('slack'));

  api.all('/auth.test', (_req, res) => {
    const user = userOf(res);
    res.json({
      ok: true,
      url: `${ctx.publicUrl()}/slack/`,
      team: slackTeam.name,
      user: user.slack.name,
      team_id: slackTeam.id,
      user_id: user.slack.id,
    });
  });

  api.post('/chat.postMessage', (req, res) => {
    const args = argsOf(req);
    const channel = findChannel(args.channel);
    if (!channel) return res.json({ ok: false, error: 'channel_not_found' });
    if (!args.text) return res.json({ ok: false, error: 'no_text' });
    const user = userOf(res);
    const message = { channel: channel.id, ts: timestamps.next(), text: args.text, user: user.slack.id };
    messages.push(message);
    res.json({
      ok: true,
      channel: channel.id,
      ts: message.ts,
      message: { type: 'message', text: message.text, user: message.user, ts: message.ts, team: slackTeam.id },
    });
  });

  api.all('/chat.getPermalink', (req, res) => {
    const args = argsOf(req);
    const channel = findChannel(args.channel);
    if (!channel) return res.json({ ok: false, error: 'channel_not_found' });
    const message = messages.find((candidate) => candidate.channel === channel.id && candidate.ts === args.message_ts);
    if (!message) return res.json({ ok: false, error: 'message_not_found' });
    res.json({ ok: true, channel: channel.id, permalink: `${ctx.publicUrl()}/slack/archives/${channel.id}/p${message.ts.replace('.', '')}` });
  });

  api.all('/conversations.list', (_req, res) => {
    res.json({
      ok: true,
      channels: channels.map((channel) => ({ id: channel.id, name: channel.name, is_channel: true, is_private: false })),
      response_metadata: { next_cursor: '' },
    });
  });

  api.use((_req, res) => {
    res.status(404).json({ ok: false, error: 'unknown_method' });
  });

  const router = express.Router();
  // The OAuth router first: its token and revocation endpoints live under /slack/api as well.
  router.use(oauth.router);
  router.use('/slack/api', ...observedEndpoint(ctx, 'slack', '/slack/api'), api);

  return { router, oauth, messages: () => messages.map((message) => ({ ...message })) };
}

/** Slack message timestamps: "<unix seconds>.<6 digits>", unique and increasing within the workspace. */
function createTimestampClock(): { next(): string } {
  let lastMicros = 0;
  return {
    next() {
      lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
      return `${Math.floor(lastMicros / 1_000_000)}.${String(lastMicros % 1_000_000).padStart(6, '0')}`;
    },
  };
}
