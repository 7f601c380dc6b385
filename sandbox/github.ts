import express, { type RequestHandler, type Response, type Router } from 'express';
import type { SandboxContext } from './context.ts';
import { readAuthorization } from './credentials.ts';
import { createOAuthServer, type OAuthClient, type OAuthServer } from './oauth-server.ts';
import { observedEndpoint } from './pipeline.ts';
import { noteCredential } from './request-log.ts';
import { findUser, type DemoUser } from './users.ts';

interface PullFixture {
  id: number;
  number: number;
  title: string;
  body: string;
  author: string;
  head: { ref: string; sha: string };
  base: string;
  createdAt: string;
}

interface RepoFixture {
  owner: string;
  name: string;
  private: boolean;
  /** Logins that can see a private repository. */
  collaborators: string[];
  pulls: PullFixture[];
}

/** The demo repositories: a public one anyone can see and a private one only alice can. */
const repositories: readonly RepoFixture[] = [
  {
    owner: 'acme',
    name: 'widgets',
    private: false,
    collaborators: ['alice', 'bob'],
    pulls: [
      {
        id: 700001,
        number: 1,
        title: 'Add retry to widget sync',
        body: 'Widget sync gives up after the first network error. This retries with backoff.',
        author: 'alice',
        head: { ref: 'retry-sync', sha: '3f2a9c1d4e5b6a7980c1d2e3f4a5b6c7d8e9f0a1' },
        base: 'main',
        createdAt: '2025-01-06T10:00:00Z',
      },
    ],
  },
  {
    owner: 'alice',
    name: 'secret-plans',
    private: true,
    collaborators: ['alice'],
    pulls: [
      {
        id: 700002,
        number: 1,
        title: 'Launch plan for Q3',
        body: 'Draft of the Q3 launch plan. Not for sharing yet.',
        author: 'alice',
        head: { ref: 'q3-plan', sha: '9b8a7c6d5e4f30211a2b3c4d5e6f708192a3b4c5' },
        base: 'main',
        createdAt: '2025-01-08T09:30:00Z',
      },
    ],
  },
];

interface IssueComment {
  id: number;
  repo: RepoFixture;
  number: number;
  body: string;
  user: DemoUser;
  createdAt: string;
}

export interface GithubCommentSnapshot {
  id: number;
  repo: string;
  number: number;
  body: string;
  user: string;
}

export interface GithubSandbox {
  router: Router;
  oauth: OAuthServer;
  comments(): GithubCommentSnapshot[];
}

const documentationUrl = 'https://docs.github.com/rest';
const badCredentials = { message: 'Bad credentials', documentation_url: documentationUrl };
const notFound = { message: 'Not Found', documentation_url: documentationUrl };

/** GitHub: github.com's OAuth endpoints under /github and api.github.com under /github/api. */
export function createGithub(ctx: SandboxContext, client: OAuthClient): GithubSandbox {
  const oauth = createOAuthServer(ctx, {
    app: 'github',
    displayName: 'GitHub',
    clients: [client],
    paths: {
      prefix: '/github',
      signIn: '/github/login',
      authorize: '/github/login/oauth/authorize',
      token: '/github/login/oauth/access_token',
      revoke: '/github/login/oauth/revoke',
    },
    endpointBase: '/github',
    tokenPrefixes: { access: 'ghu_', refresh: 'ghr_' },
    revokeResponse: {},
  });
  const comments: IssueComment[] = [];
  let lastCommentId = 2_000_000;

  const authenticate: RequestHandler = (req, res, next) => {
    const header = readAuthorization(req.get('authorization'));
    const token = header.scheme === 'bearer' || header.scheme === 'token' ? header.value : null;
    const check = token ? oauth.checkAccessToken(token) : undefined;
    const user = check?.status === 'valid' ? findUser(check.grant.user) : undefined;
    noteCredential(res, { scheme: header.scheme, presented: header.value, user: user?.username ?? null, valid: user !== undefined });
    if (!user) {
      res.status(401).json(badCredentials);
      return;
    }
    res.locals.githubUser = user;
    next();
  };
  const userOf = (res: Response) => res.locals.githubUser as DemoUser;

  /** GitHub answers 404, not 403, for a private repository the user cannot see: its existence is secret. */
  const visibleRepo = (owner: string, name: string, user: DemoUser): RepoFixture | undefined =>
    repositories.find(
      (repo) => repo.owner.toLowerCase() === owner.toLowerCase() && repo.name.toLowerCase() === name.toLowerCase() && (!repo.private || repo.collaborators.includes(user.github.login)),
    );

  const webUrl = (repo: RepoFixture, path: string) => `${ctx.publicUrl()}/github/web/${repo.owner}/${repo.name}${path}`;
  const apiUrl = (repo: RepoFixture, path: string) => `${ctx.publicUrl()}/github/api/repos/${repo.owner}/${repo.name}${path}`;
  const userSummary = (user: DemoUser) => ({ login: user.github.login, id: user.github.id, type: 'User' });

  const commentJson = (comment: IssueComment) => ({
    id: comment.id,
    url: apiUrl(comment.repo, `/issues/comments/${comment.id}`),
    html_url: webUrl(comment.repo, `/pull/${comment.number}#issuecomment-${comment.id}`),
    issue_url: apiUrl(comment.repo, `/issues/${comment.number}`),
    body: comment.body,
    user: userSummary(comment.user),
    created_at: comment.createdAt,
    updated_at: comment.createdAt,
  });

  const api = express.Router();
  api.use(authenticate, ctx.idempotency.middleware('github'));

  api.get('/user', (_req, res) => {
    const { github } = userOf(res);
    res.json({ login: github.login, id: github.id, name: github.name, email: github.email, type: 'User' });
  });

  api.get('/repos/:owner/:repo/pulls/:number', (req, res) => {
    const repo = visibleRepo(req.params.owner, req.params.repo, userOf(res));
    const pull = repo?.pulls.find((candidate) => String(candidate.number) === req.params.number);
    if (!repo || !pull) {
      res.status(404).json(notFound);
      return;
    }
    const author = findUser(pull.author)!;
    res.json({
      id: pull.id,
      number: pull.number,
      url: apiUrl(repo, `/pulls/${pull.number}`),
      html_url: webUrl(repo, `/pull/${pull.number}`),
      state: 'open',
      draft: false,
      merged: false,
      title: pull.title,
      body: pull.body,
      user: userSummary(author),
      head: { ref: pull.head.ref, sha: pull.head.sha },
      base: { ref: pull.base },
      created_at: pull.createdAt,
      updated_at: pull.createdAt,
    });
  });

  api.post('/repos/:owner/:repo/issues/:number/comments', (req, res) => {
    const user = userOf(res);
    const repo = visibleRepo(req.params.owner, req.params.repo, user);
    const pull = repo?.pulls.find((candidate) => String(candidate.number) === req.params.number);
    if (!repo || !pull) {
      res.status(404).json(notFound);
      return;
    }
    const body: unknown = req.body?.body;
    if (typeof body !== 'string' || body.trim() === '') {
      res.status(422).json({
        message: 'Validation Failed',
        errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }],
        documentation_url: documentationUrl,
      });
      return;
    }
    lastCommentId += 1;
    const comment: IssueComment = { id: lastCommentId, repo, number: pull.number, body, user, createdAt: isoSeconds(new Date()) };
    comments.push(comment);
    res.status(201).location(commentJson(comment).url).json(commentJson(comment));
  });

  api.get('/repos/:owner/:repo/issues/comments/:id', (req, res) => {
    const repo = visibleRepo(req.params.owner, req.params.repo, userOf(res));
    const comment = comments.find((candidate) => candidate.repo === repo && String(candidate.id) === req.params.id);
    if (!comment) {
      res.status(404).json(notFound);
      return;
    }
    res.json(commentJson(comment));
  });

  api.use((_req, res) => {
    res.status(404).json(notFound);
  });

  /**
   * "Delete an app token" (DELETE /applications/{client_id}/token): the OAuth app authenticates with Basic
   * client_id:client_secret and names the access token in a JSON body; its whole grant, refresh tokens
   * included, stops working at once. 204 when revoked, 404 for a token the app never got.
   */
  const applications = express.Router();
  applications.delete('/applications/:clientId/token', (req, res) => {
    const header = readAuthorization(req.get('authorization'));
    const clientId = header.scheme === 'basic' ? header.value : null;
    const authenticated = clientId !== null && header.password !== null && oauth.isClient(clientId, header.password);
    if (!authenticated || clientId !== req.params.clientId) {
      noteCredential(res, { scheme: header.scheme, presented: header.value, user: null, valid: false });
      res.status(authenticated ? 404 : 401).json(authenticated ? notFound : badCredentials);
      return;
    }
    const token: unknown = req.body?.access_token;
    if (typeof token !== 'string' || token === '') {
      noteCredential(res, { scheme: 'basic', presented: clientId, user: null, valid: true });
      res.status(422).json({ message: 'Validation Failed', errors: [{ resource: 'OauthAccess', code: 'missing_field', field: 'access_token' }], documentation_url: documentationUrl });
      return;
    }
    const grant = oauth.revokeAccessToken(token, clientId);
    noteCredential(res, { scheme: 'basic', presented: clientId, user: grant?.user ?? null, valid: true });
    if (!grant) {
      res.status(404).json(notFound);
      return;
    }
    res.status(204).end();
  });

  const router = express.Router();
  router.use(oauth.router);
  router.use('/github/api', ...observedEndpoint(ctx, 'github', '/github/api'), applications, api);

  return {
    router,
    oauth,
    comments: () =>
      comments.map((comment) => ({
        id: comment.id,
        repo: `${comment.repo.owner}/${comment.repo.name}`,
        number: comment.number,
        body: comment.body,
        user: comment.user.github.login,
      })),
  };
}

/** GitHub's timestamp format: ISO 8601 in UTC without milliseconds. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
