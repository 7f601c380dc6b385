import { z } from 'zod';
import { app, defineTool } from '../sdk/index.ts';
import { repoName } from './summarize-pull-request.ts';

/** One step, one app: the smallest tool that still acts as the caller (and the benchmark's baseline). */
export const readPullRequest = defineTool(
  {
    name: 'read_pull_request',
    title: 'Read a pull request',
    description: 'Read a GitHub pull request with your own GitHub account: title, state, author and link.',
    input: z.object({ repo: repoName, number: z.number().int().positive() }),
    apps: ['github'],
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  },
  async ({ repo, number }) => {
    const [owner, name] = repo.split('/') as [string, string];
    const pr = await app('github').call<{ title: string; state: string; html_url: string; user: { login: string } }>('pulls.get', { owner, repo: name, pull_number: number });
    return { repo, number, title: pr.title, state: pr.state, author: pr.user.login, url: pr.html_url };
  },
);
