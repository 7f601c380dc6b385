import { z } from 'zod';
import { app, defineCallable } from '../sdk/index.ts';

export const repoName = z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected "owner/name", e.g. "acme/widgets"');

export interface PullRequestSummary {
  repo: string;
  number: number;
  title: string;
  state: string;
  author: string;
  url: string;
  summary: string;
}

/** Level 2 of the demo: reads the pull request with the caller's own GitHub connection. */
export const summarizePullRequest = defineCallable(
  {
    name: 'summarize_pull_request',
    description: 'Read a pull request as the caller and summarise it in one line.',
    input: z.object({ repo: repoName, number: z.number().int().positive() }),
    apps: ['github'],
  },
  async ({ repo, number }): Promise<PullRequestSummary> => {
    const [owner, name] = repo.split('/') as [string, string];
    const pr = await app('github').call<{ title: string; state: string; html_url: string; user: { login: string } }>('pulls.get', {
      owner,
      repo: name,
      pull_number: number,
    });
    return {
      repo,
      number,
      title: pr.title,
      state: pr.state,
      author: pr.user.login,
      url: pr.html_url,
      summary: `${repo}#${number} "${pr.title}" by ${pr.user.login} (${pr.state})`,
    };
  },
);
