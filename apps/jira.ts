import { z } from 'zod';
import { readRestAnswer } from './answers.ts';
import type { AppAction, AppConnector } from './types.ts';

interface CreatedIssue {
  id: string;
  key: string;
  self: string;
}

const createIssue = {
  description: 'Create an issue (POST /rest/api/3/issue).',
  input: z.object({
    projectKey: z.string().min(1),
    summary: z.string().min(1),
    issueType: z.string().default('Task'),
    description: z.string().optional(),
  }),
  toRequest: ({ projectKey, summary, issueType, description }) => ({
    method: 'POST',
    path: '/rest/api/3/issue',
    body: { fields: { project: { key: projectKey }, summary, issuetype: { name: issueType }, description } },
  }),
  readAnswer: (status, body) =>
    readRestAnswer(
      'Jira',
      status,
      body,
      (issue) => issue as CreatedIssue,
      (issue) => `issue:${issue.key}`,
    ),
} satisfies AppAction<z.ZodType<{ projectKey: string; summary: string; issueType: string; description?: string }>, CreatedIssue>;

const getIssue = {
  description: 'Read one issue (GET /rest/api/3/issue/{issueIdOrKey}).',
  input: z.object({ issueIdOrKey: z.string().min(1) }),
  toRequest: ({ issueIdOrKey }) => ({ method: 'GET', path: `/rest/api/3/issue/${encodeURIComponent(issueIdOrKey)}` }),
  readAnswer: (status, body) => readRestAnswer('Jira', status, body, (issue) => issue),
} satisfies AppAction<z.ZodObject<{ issueIdOrKey: z.ZodString }>, unknown>;

export const jira: AppConnector = {
  id: 'jira',
  displayName: 'Jira',
  // Every Jira Cloud site has its own host: BATON_JIRA_API_URL must name it.
  sandboxEndpoints: (root) => ({ apiBaseUrl: `${root}/jira` }),
  defaultEndpoints: { apiBaseUrl: 'https://your-site.atlassian.net' },
  defaultMode: 'service_account',
  serviceAuth: 'basic',
  actions: { 'issues.create': createIssue, 'issues.get': getIssue } as Record<string, AppAction>,
};
