import { z } from 'zod';
import { readRestAnswer } from './answers.ts';
import type { AppAction, AppConnector, ExternalAccount } from './types.ts';

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
    readRestAnswer('GitHub', status, body, (comment) => comment as IssueComment, (comment) => `comment:${comment.id}`),
} satisfies AppAction<z.ZodObject<typeof repoRef & { issue_number: z.ZodNumber; body: z.ZodString }>, IssueComment>;

export const github: AppConnector = {
  id: 'github',
  displayName: 'GitHub',
  defaultEndpoints: { apiBaseUrl: 'https://api.github.com', authorizeUrl: 'https://github.com/login/oauth/authorize', tokenUrl: 'https://github.com/login/oauth/access_token' },
  defaultMode: 'user_oauth',
  oauth: { defaultScopes: ['repo'], scopeSeparator: ' ', whoAmI: getUser },
  actions: {
    'users.getAuthenticated': getUser,
    'pulls.get': getPullRequest,
    'issues.createComment': createIssueComment,
  } as Record<string, AppAction>,
};
