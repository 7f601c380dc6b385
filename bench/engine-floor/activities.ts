/**
 * The engine floor's activities: each makes exactly one HTTP call to a sandbox app with `fetch`, the
 * request Baton's connector builds for that action (same method, path, JSON body, headers and
 * Idempotency-Key on writes) and the same credential the worker would use. No Baton code: the
 * credentials are handed to the floor's worker process once, at start.
 */
import type { FloorActivities, FloorUser } from './workflows.ts';

export interface FloorAppConfig {
  /** Base URLs of the sandbox apps' APIs (the worker's settings' `apiBaseUrl`). */
  baseUrls: { github: string; slack: string; jira: string };
  /** Authorization header values: each user's GitHub and Slack tokens, the Jira service account's Basic credential. */
  authorization: { users: Record<FloorUser, { github: string; slack: string }>; jira: string };
}

type Method = 'GET' | 'POST';

export function createFloorActivities(config: FloorAppConfig): FloorActivities {
  async function send<T>(base: string, method: Method, path: string, authorization: string, options: { body?: unknown; query?: Record<string, string>; idempotencyKey?: string } = {}): Promise<T> {
    const url = new URL(`${base.replace(/\/$/, '')}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    const response = await fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        'user-agent': 'engine-floor',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        ...(method !== 'GET' && options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        authorization,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url.pathname}: ${response.status} ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as T & { ok?: boolean; error?: string };
    // Slack answers 200 with {"ok": false} on errors.
    if (body.ok === false) throw new Error(`${method} ${url.pathname}: ${body.error ?? 'not ok'}`);
    return body;
  }
  const { baseUrls, authorization } = config;
  const path = (owner: string, repo: string) => `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  return {
    githubPullsGet: ({ user, owner, repo, pullNumber }) => send(baseUrls.github, 'GET', `${path(owner, repo)}/pulls/${pullNumber}`, authorization.users[user].github),
    githubCreateComment: ({ user, owner, repo, issueNumber, body, stepKey }) =>
      send(baseUrls.github, 'POST', `${path(owner, repo)}/issues/${issueNumber}/comments`, authorization.users[user].github, { body: { body }, idempotencyKey: stepKey }),
    // Baton's Slack actions return only these fields too.
    slackPostMessage: async ({ user, channel, text, stepKey }) => {
      const posted = await send<{ channel: string; ts: string }>(baseUrls.slack, 'POST', '/chat.postMessage', authorization.users[user].slack, { body: { channel, text }, idempotencyKey: stepKey });
      return { channel: String(posted.channel), ts: String(posted.ts) };
    },
    slackGetPermalink: async ({ user, channel, messageTs }) => {
      const answer = await send<{ permalink: string }>(baseUrls.slack, 'GET', '/chat.getPermalink', authorization.users[user].slack, { query: { channel, message_ts: messageTs } });
      return { permalink: String(answer.permalink) };
    },
    jiraCreateIssue: ({ projectKey, summary, description, stepKey }) =>
      send(baseUrls.jira, 'POST', '/rest/api/3/issue', authorization.jira, {
        body: { fields: { project: { key: projectKey }, summary, issuetype: { name: 'Task' }, description } },
        idempotencyKey: stepKey,
      }),
  };
}
