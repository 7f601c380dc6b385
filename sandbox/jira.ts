import express, { type RequestHandler, type Router } from 'express';
import type { SandboxContext } from './context.ts';
import { readAuthorization } from './credentials.ts';
import { observedEndpoint } from './pipeline.ts';
import { noteCredential } from './request-log.ts';
import { sameSecret } from './tokens.ts';

/** The Jira service account Baton authenticates as (Jira Cloud: Basic with e-mail and API token). */
export interface JiraServiceAccount {
  email: string;
  apiToken: string;
}

/** The one demo project. */
const project = { id: '10000', key: 'OPS', name: 'Operations' } as const;
const issueTypes = ['Task', 'Bug', 'Story'] as const;
const serviceAccountId = 'svc-baton';
const serviceAccountName = 'Baton service account';

interface JiraIssue {
  id: string;
  key: string;
  summary: string;
  issueType: string;
  description: unknown;
  created: string;
}

export interface JiraIssueSnapshot {
  key: string;
  summary: string;
  /** The accountId of the reporter: always the service account, the only identity Jira sees. */
  reporter: string;
}

export interface JiraSandbox {
  router: Router;
  issues(): JiraIssueSnapshot[];
}

const notAuthenticated = {
  errorMessages: ['You are not authenticated. Authentication required to perform this operation.'],
  errors: {},
};
const issueNotFound = { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} };

/** Jira Cloud's REST API v3 under /jira. */
export function createJira(ctx: SandboxContext, account: JiraServiceAccount): JiraSandbox {
  const issues: JiraIssue[] = [];

  const authenticate: RequestHandler = (req, res, next) => {
    const header = readAuthorization(req.get('authorization'));
    const valid = header.scheme === 'basic' && header.value === account.email && header.password !== null && sameSecret(header.password, account.apiToken);
    noteCredential(res, { scheme: header.scheme, presented: header.value, user: valid ? 'service-account' : null, valid });
    if (!valid) {
      res.status(401).json(notAuthenticated);
      return;
    }
    next();
  };

  const self = (issue: JiraIssue) => `${ctx.publicUrl()}/jira/rest/api/3/issue/${issue.id}`;
  const reporter = () => ({ accountId: serviceAccountId, emailAddress: account.email, displayName: serviceAccountName });

  const api = express.Router();
  api.use(authenticate, ctx.idempotency.middleware('jira'));

  api.get('/rest/api/3/myself', (_req, res) => {
    res.json({ ...reporter(), active: true, accountType: 'atlassian', self: `${ctx.publicUrl()}/jira/rest/api/3/user?accountId=${serviceAccountId}` });
  });

  api.post('/rest/api/3/issue', (req, res) => {
    const fields: Record<string, unknown> = isObject(req.body?.fields) ? req.body.fields : {};
    const errors: Record<string, string> = {};
    const projectRef = isObject(fields.project) ? fields.project : {};
    if (projectRef.key !== project.key && projectRef.id !== project.id) errors.project = 'valid project is required';
    if (typeof fields.summary !== 'string' || fields.summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    const issueType = isObject(fields.issuetype) ? fields.issuetype.name : undefined;
    if (typeof issueType !== 'string' || !(issueTypes as readonly string[]).includes(issueType)) {
      errors.issuetype = 'valid issue type is required';
    }
    if (Object.keys(errors).length > 0) {
      res.status(400).json({ errorMessages: [], errors });
      return;
    }
    const issue: JiraIssue = {
      id: String(10001 + issues.length),
      key: `${project.key}-${issues.length + 1}`,
      summary: fields.summary as string,
      issueType: issueType as string,
      description: fields.description ?? null,
      created: new Date().toISOString(),
    };
    issues.push(issue);
    res.status(201).json({ id: issue.id, key: issue.key, self: self(issue) });
  });

  api.get('/rest/api/3/issue/:keyOrId', (req, res) => {
    const wanted = req.params.keyOrId.toUpperCase();
    const issue = issues.find((candidate) => candidate.key === wanted || candidate.id === wanted);
    if (!issue) {
      res.status(404).json(issueNotFound);
      return;
    }
    res.json({
      id: issue.id,
      key: issue.key,
      self: self(issue),
      fields: {
        summary: issue.summary,
        project: { id: project.id, key: project.key, name: project.name },
        issuetype: { name: issue.issueType },
        description: issue.description,
        reporter: reporter(),
        created: issue.created,
      },
    });
  });

  api.use((_req, res) => {
    res.status(404).json({ errorMessages: ['Not found.'], errors: {} });
  });

  const router = express.Router();
  router.use('/jira', ...observedEndpoint(ctx, 'jira', '/jira'), api);

  return {
    router,
    issues: () => issues.map((issue) => ({ key: issue.key, summary: issue.summary, reporter: serviceAccountId })),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
