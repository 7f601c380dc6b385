/**
 * The engine floor's workflows: the shapes of Baton's demo tools with no Baton code at all — plain
 * Temporal workflows, child workflows and activities. Imports only @temporalio/workflow.
 *
 * - floorRead: one workflow, one activity (GitHub pulls.get), like read_pull_request.
 * - floorTriage: the tree of triage_pull_request — a parent whose first child reads the pull request
 *   (pulls.get), whose second child posts to Slack, asks for the permalink and opens a Jira issue, and
 *   which then comments on the pull request itself: 3 workflows, 5 activities, one HTTP call each.
 * - floorTriageDeeper: floorTriage run as the child of one more workflow (one more nesting level).
 */
import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';

/** Which user's credentials the worker uses for the user's apps (GitHub, Slack); Jira is the service account. */
export type FloorUser = 'alice' | 'bob';

export interface FloorInput {
  user: FloorUser;
  repo: string;
  number: number;
}

export interface PullRequest {
  title: string;
  state: string;
  html_url: string;
  user: { login: string };
}

/** One HTTP call each; `stepKey` becomes the Idempotency-Key of writes, as Baton's step key does. */
export interface FloorActivities {
  githubPullsGet(input: { user: FloorUser; owner: string; repo: string; pullNumber: number }): Promise<PullRequest>;
  githubCreateComment(input: { user: FloorUser; owner: string; repo: string; issueNumber: number; body: string; stepKey: string }): Promise<{ id: number; html_url: string }>;
  slackPostMessage(input: { user: FloorUser; channel: string; text: string; stepKey: string }): Promise<{ channel: string; ts: string }>;
  slackGetPermalink(input: { user: FloorUser; channel: string; messageTs: string }): Promise<{ permalink: string }>;
  jiraCreateIssue(input: { projectKey: string; summary: string; description: string; stepKey: string }): Promise<{ key: string }>;
}

// The same activity options as Baton's app calls (workflows/sdk/activities.ts).
const apps = proxyActivities<FloorActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
});

let sequence = 0;
/** Child ids and step keys extend the workflow id, as Baton's do. */
const nextKey = () => `${workflowInfo().workflowId}#${(sequence += 1)}`;
const childId = (name: string) => `${workflowInfo().workflowId}/${name}-${(sequence += 1)}`;

function splitRepo(repo: string): [string, string] {
  const [owner, name] = repo.split('/');
  return [owner ?? '', name ?? ''];
}

export async function floorRead({ user, repo, number }: FloorInput) {
  const [owner, name] = splitRepo(repo);
  const pr = await apps.githubPullsGet({ user, owner, repo: name, pullNumber: number });
  return { repo, number, title: pr.title, state: pr.state, author: pr.user.login, url: pr.html_url };
}

export async function floorSummarize({ user, repo, number }: FloorInput) {
  const [owner, name] = splitRepo(repo);
  const pr = await apps.githubPullsGet({ user, owner, repo: name, pullNumber: number });
  return { repo, number, title: pr.title, url: pr.html_url, summary: `${repo}#${number} "${pr.title}" by ${pr.user.login} (${pr.state})` };
}

export async function floorNotify({ user, summary, url }: { user: FloorUser; summary: string; url: string }) {
  const posted = await apps.slackPostMessage({ user, channel: '#triage', text: `Triage: ${summary} ${url}`, stepKey: nextKey() });
  const { permalink } = await apps.slackGetPermalink({ user, channel: posted.channel, messageTs: posted.ts });
  const ticket = await apps.jiraCreateIssue({ projectKey: 'OPS', summary: `Triage ${summary}`.slice(0, 250), description: `${summary}\n${url}\nSlack: ${permalink}`, stepKey: nextKey() });
  return { slackMessageUrl: permalink, jiraKey: ticket.key };
}

export async function floorTriage(input: FloorInput) {
  const pr = await executeChild(floorSummarize, { args: [input], workflowId: childId('floorSummarize') });
  const note = await executeChild(floorNotify, { args: [{ user: input.user, summary: pr.summary, url: pr.url }], workflowId: childId('floorNotify') });
  const [owner, name] = splitRepo(input.repo);
  const comment = await apps.githubCreateComment({ user: input.user, owner, repo: name, issueNumber: input.number, body: `Triaged: ${note.jiraKey} · ${note.slackMessageUrl}`, stepKey: nextKey() });
  return { title: pr.title, url: pr.url, summary: pr.summary, slackMessageUrl: note.slackMessageUrl, jiraKey: note.jiraKey, commentUrl: comment.html_url };
}

export async function floorTriageDeeper(input: FloorInput) {
  return executeChild(floorTriage, { args: [input], workflowId: childId('floorTriage') });
}
