import { z } from 'zod';
import { readRestAnswer } from './answers.ts';
import type { AppAction, AppConnector, ExternalAccount, TokenRevocation } from './types.ts';

const repoRef = { owner: z.string().min(1), repo: z.string().min(1) };

interface PullRequest {
  number: number;
  title: string;
  state: string;
  body: string | null;
  html_url: string;
  user: { login: string };
}

interface IssueComment {
  id: number;
  html_url: string;
  body: string;
}

const getUser: AppAction<z.ZodObject<{}>, ExternalAccount> = {
  description: 'The account the token belongs to (GET /user).',
  input: z.object({}),
  toRequest: () => ({ method: 'GET', path: '/user' }),
  readAnswer: (status, body) =>
    readRestAnswer('GitHub', status, body, (user) => {
      const { id, login } = user as { id: number; login: string };
      return { id: String(id), login };
    }),
};

const getPullRequest = {
  description: 'Read one pull request (GET /repos/{owner}/{repo}/pulls/{pull_number}).',
  input: z.object({ ...repoRef, pull_number: z.number().int().positive() }),
  toRequest: ({ owner, repo, pull_number }) => ({
    method: 'GET',
    path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/pulls/${pull_number}`,
  }),
  readAnswer: (status, body) => readRestAnswer('GitHub', status, body, (pr) => pr as PullRequest),
} satisfies AppAction<z.ZodObject<typeof repoRef & { pull_number: z.ZodNumber }>, PullRequest>;

const createIssueComment = {
  description: 'Comment on an issue or pull request (POST /repos/{owner}/{repo}/issues/{issue_number}/comments).',
  input: z.object({ ...repoRef, issue_number: z.number().int().positive(), body: z.string().min(1) }),
  toRequest: ({ owner, repo, issue_number, body }) => ({
    method: 'POST',
    path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/issues/${issue_number}/comments`,
    body: { body },
  }),
  readAnswer: (status, body) =>
    readRestAnswer(
      'GitHub',
      status,
      body,
      (comment) => comment as IssueComment,
      (comment) => `comment:${comment.id}`,
    ),
} satisfies AppAction<z.ZodObject<typeof repoRef & { issue_number: z.ZodNumber; body: z.ZodString }>, IssueComment>;

/**
 * GitHub's "Delete an app token" (DELETE /applications/{client_id}/token on the API host): the OAuth app
 * authenticates with Basic client_id:client_secret and names the token in a JSON body; 204 = revoked.
 * The URL is `{apiBaseUrl}/applications/{client_id}/token`, so a GitHub Enterprise token is revoked on
 * its own server, or a configured revocation URL with `{client_id}` filled in.
 */
const revokeAppToken: TokenRevocation = {
  toRequest: ({ endpoints, client, accessToken }) => {
    if (!client) return { unavailable: 'no GitHub OAuth client is configured (BATON_GITHUB_CLIENT_ID and _CLIENT_SECRET)' };
    const template = endpoints.revokeUrl ?? `${endpoints.apiBaseUrl.replace(/\/$/, '')}/applications/{client_id}/token`;
    return {
      method: 'DELETE',
      url: template.replace(/\{client_id\}|%7Bclient_id%7D/gi, encodeURIComponent(client.clientId)),
      headers: {
        // GitHub takes the pair as is (no RFC 6749 form-encoding).
        Authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        Accept: 'application/vnd.github+json',
        'Content-Type': 'application/json',
        'X-GitHub-Api-Version': '2022-11-28',
      },
      body: JSON.stringify({ access_token: accessToken }),
    };
  },
  readAnswer: (status, body) => {
    // 404: GitHub no longer knows the token (already revoked, or the user removed the app): it is dead either way.
    if (status === 204 || status === 404) return { ok: true };
    const message = body && typeof body === 'object' && typeof (body as Record<string, unknown>).message === 'string' ? `: ${(body as Record<string, string>).message}` : '';
    return { ok: false, message: `GitHub answered ${status}${message}` };
  },
};

export const github: AppConnector = {
  id: 'github',
  displayName: 'GitHub',
  // The sandbox's GitHub; revocation is GitHub's API endpoint (DELETE /applications/{client_id}/token), found from apiBaseUrl.
  sandboxEndpoints: (root) => ({ apiBaseUrl: `${root}/github/api`, authorizeUrl: `${root}/github/login/oauth/authorize`, tokenUrl: `${root}/github/login/oauth/access_token` }),
  defaultEndpoints: {
    apiBaseUrl: 'https://api.github.com',
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    // No revokeUrl: revocation is an API endpoint, so it follows apiBaseUrl (GitHub Enterprise included).
  },
  defaultMode: 'user_oauth',
  oauth: { defaultScopes: ['repo'], scopeSeparator: ' ', whoAmI: getUser, revoke: revokeAppToken },
  actions: {
    'users.getAuthenticated': getUser,
    'pulls.get': getPullRequest,
    'issues.createComment': createIssueComment,
  } as Record<string, AppAction>,
};
