import { z } from 'zod';
import { app, child, defineTool } from '../sdk/index.ts';
import { notifyTeam } from './notify-team.ts';
import { repoName, summarizePullRequest } from './summarize-pull-request.ts';

/**
 * The demo composite tool: three levels deep, three apps, the caller's identity at every level. It reads
 * the pull request, tells the team (Slack as the caller, Jira as the service account), and finally leaves
 * a comment on the pull request as the caller — a second GitHub call, late in the run.
 */
export const triagePullRequest = defineTool(
  {
    name: 'triage_pull_request',
    title: 'Triage a pull request',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    description: 'Read a GitHub pull request as you, post it to Slack #triage as you, open a Jira ticket in OPS, and comment the links on the pull request as you.',
    input: z.object({ repo: repoName, number: z.number().int().positive() }),
    apps: ['github'],
    uses: [summarizePullRequest, notifyTeam],
  },
  async ({ repo, number }) => {
    const pr = await child(summarizePullRequest, { repo, number });
    const note = await child(notifyTeam, { summary: pr.summary, url: pr.url });
    const [owner, name] = repo.split('/') as [string, string];
    const comment = await app('github').call<{ id: number; html_url: string }>('issues.createComment', {
      owner,
      repo: name,
      issue_number: number,
      body: `Triaged: ${note.jiraKey} · ${note.slackMessageUrl}`,
    });
    return { title: pr.title, url: pr.url, summary: pr.summary, slackMessageUrl: note.slackMessageUrl, jiraKey: note.jiraKey, commentUrl: comment.html_url };
  },
);
