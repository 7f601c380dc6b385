import { z } from 'zod';
import type { AppAction, AppAnswer, AppConnector, ExternalAccount, TokenRevocation } from './types.ts';

/** Slack errors that mean the token itself is no good: the user must connect again. */
const credentialErrors = new Set(['not_authed', 'invalid_auth', 'token_expired', 'token_revoked', 'account_inactive']);
const transientErrors = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** Slack answers HTTP 200 with `{ok: false, error}` for failures; read that, not the status. */
function readSlackAnswer<Result>(status: number, body: unknown, toResult: (body: Record<string, unknown>) => Result, objectRef?: (result: Result) => string): AppAnswer<Result> {
  const record = (body ?? {}) as Record<string, unknown>;
  if (status === 200 && record.ok === true) {
    const result = toResult(record);
    return { kind: 'ok', result, objectRef: objectRef?.(result) };
  }
  const error = typeof record.error === 'string' ? record.error : `HTTP ${status}`;
  if (credentialErrors.has(error)) return { kind: 'credential_rejected', message: `Slack refused the token (${error})` };
  return { kind: 'failed', message: `Slack answered ${error}`, retryable: status >= 500 || transientErrors.has(error) };
}

const authTest: AppAction<z.ZodObject<{}>, ExternalAccount> = {
  description: 'The user and workspace the token belongs to (auth.test).',
  input: z.object({}),
  toRequest: () => ({ method: 'POST', path: '/auth.test' }),
  readAnswer: (status, body) => readSlackAnswer(status, body, (answer) => ({ id: String(answer.user_id), login: String(answer.user) })),
};

interface PostedMessage {
  channel: string;
  ts: string;
  permalink?: string;
}

const postMessage = {
  description: 'Post a message to a channel (chat.postMessage).',
  input: z.object({ channel: z.string().min(1), text: z.string().min(1) }),
  toRequest: (input) => ({ method: 'POST', path: '/chat.postMessage', body: input }),
  readAnswer: (status, body) =>
    // The message's reference is channel/ts, what its permalink encodes: "who posted this?" is answerable.
    readSlackAnswer(
      status,
      body,
      (answer) => ({ channel: String(answer.channel), ts: String(answer.ts) }),
      (posted) => `message:${posted.channel}/${posted.ts}`,
    ),
} satisfies AppAction<z.ZodObject<{ channel: z.ZodString; text: z.ZodString }>, PostedMessage>;

const getPermalink = {
  description: 'A link to one message (chat.getPermalink).',
  input: z.object({ channel: z.string().min(1), message_ts: z.string().min(1) }),
  toRequest: (input) => ({ method: 'GET', path: '/chat.getPermalink', query: input }),
  readAnswer: (status, body) => readSlackAnswer(status, body, (answer) => ({ permalink: String(answer.permalink) })),
} satisfies AppAction<z.ZodObject<{ channel: z.ZodString; message_ts: z.ZodString }>, { permalink: string }>;

const listConversations = {
  description: 'Channels the user can see (conversations.list).',
  input: z.object({}),
  toRequest: () => ({ method: 'GET', path: '/conversations.list' }),
  readAnswer: (status, body) => readSlackAnswer(status, body, (answer) => ({ channels: answer.channels as Array<{ id: string; name: string }> })),
} satisfies AppAction<z.ZodObject<{}>, { channels: Array<{ id: string; name: string }> }>;

/**
 * Slack's auth.revoke: the token to revoke is the request's own credential (Authorization: Bearer);
 * Slack answers {ok: true, revoked: true}. A token Slack already considers revoked is revoked.
 */
const authRevoke: TokenRevocation = {
  toRequest: ({ endpoints, accessToken }) => {
    if (!endpoints.revokeUrl) return { unavailable: 'no Slack revocation URL (auth.revoke) is configured' };
    return {
      method: 'POST',
      url: endpoints.revokeUrl,
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
    };
  },
  readAnswer: (status, body) => {
    const record = (body ?? {}) as Record<string, unknown>;
    if (status === 200 && record.ok === true) return { ok: true };
    const error = typeof record.error === 'string' ? record.error : `HTTP ${status}`;
    if (error === 'token_revoked') return { ok: true };
    return { ok: false, message: `Slack answered ${error}` };
  },
};

export const slack: AppConnector = {
  id: 'slack',
  displayName: 'Slack',
  sandboxEndpoints: (root) => ({
    apiBaseUrl: `${root}/slack/api`,
    authorizeUrl: `${root}/slack/oauth/v2/authorize`,
    tokenUrl: `${root}/slack/api/oauth.v2.access`,
    revokeUrl: `${root}/slack/api/auth.revoke`,
  }),
  defaultEndpoints: {
    apiBaseUrl: 'https://slack.com/api',
    authorizeUrl: 'https://slack.com/oauth/v2/authorize',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    revokeUrl: 'https://slack.com/api/auth.revoke',
  },
  defaultMode: 'user_oauth',
  oauth: { defaultScopes: ['chat:write', 'channels:read'], scopeSeparator: ',', whoAmI: authTest, revoke: authRevoke },
  actions: {
    'auth.test': authTest,
    'chat.postMessage': postMessage,
    'chat.getPermalink': getPermalink,
    'conversations.list': listConversations,
  } as Record<string, AppAction>,
};
