import { app, defineTool, z } from 'baton/sdk';

// defineTool: a tool agents can call (an MCP tool and a Temporal workflow). app(id).call acts as the caller.
export const readPullRequest = defineTool(
  {
    name: 'read_pull_request',
    description: 'Read a GitHub pull request with your own GitHub account.',
    input: z.object({ repo: z.string(), number: z.number().int().positive() }),
    apps: ['github'],
    annotations: { readOnlyHint: true },
  },
  async ({ repo, number }) => {
    const [owner, name] = repo.split('/');
    const pr = await app('github').call<{ title: string; html_url: string }>('pulls.get', { owner, repo: name, pull_number: number });
    return { title: pr.title, url: pr.html_url };
  },
);
