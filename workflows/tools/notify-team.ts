import { z } from 'zod';
import { app, defineCallable } from '../sdk/index.ts';

/** Level 3 of the demo: posts to Slack as the caller, opens a Jira ticket as the service account. */
export const notifyTeam = defineCallable(
  {
    name: 'notify_team',
    description: 'Tell the team about a pull request in Slack #triage and open a Jira ticket in OPS.',
    input: z.object({ summary: z.string().min(1), url: z.string().min(1) }),
    apps: ['slack', 'jira'],
  },
  async ({ summary, url }) => {
    const posted = await app('slack').call<{ channel: string; ts: string }>('chat.postMessage', {
      channel: '#triage',
      text: `Triage: ${summary} ${url}`,
    });
    const { permalink } = await app('slack').call<{ permalink: string }>('chat.getPermalink', {
      channel: posted.channel,
      message_ts: posted.ts,
    });
    const ticket = await app('jira').call<{ key: string }>('issues.create', {
      projectKey: 'OPS',
      summary: `Triage ${summary}`.slice(0, 250),
      description: `${summary}\n${url}\nSlack: ${permalink}`,
    });
    return { slackMessageUrl: permalink, jiraKey: ticket.key };
  },
);
