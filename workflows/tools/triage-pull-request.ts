import { z } from 'zod';
import { child, defineTool } from '../sdk/index.ts';
import { notifyTeam } from './notify-team.ts';
import { repoName, summarizePullRequest } from './summarize-pull-request.ts';

/** The demo composite tool: three levels deep, three apps, the caller's identity at every level. */
export const triagePullRequest = defineTool(
  {
    name: 'triage_pull_request',
    title: 'Triage a pull request',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    description: 'Read a GitHub pull request as you, post it to Slack #triage as you, and open a Jira ticket in OPS.',
    input: z.object({ repo: repoName, number: z.number().int().positive() }),
    uses: [summarizePullRequest, notifyTeam],
  },
  async ({ repo, number }) => {
    const pr = await child(summarizePullRequest, { repo, number });
    const note = await child(notifyTeam, { summary: pr.summary, url: pr.url });
    return { title: pr.title, url: pr.url, summary: pr.summary, slackMessageUrl: note.slackMessageUrl, jiraKey: note.jiraKey };
  },
);
