import { z } from 'zod';
import { app, defineTool } from '../sdk/index.ts';

/**
 * Files a Jira ticket in OPS with the Jira service account: needs no connection of the caller's, so
 * service callers (API tokens from CI or scripts) may run it too.
 */
export const openOpsTicket = defineTool(
  {
    name: 'open_ops_ticket',
    title: 'Open an OPS ticket',
    description: 'Open a Jira ticket in the OPS project (filed by the Jira service account).',
    input: z.object({ summary: z.string().min(1).max(250), description: z.string().max(10_000).default('') }),
    apps: ['jira'],
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  },
  async ({ summary, description }) => {
    const ticket = await app('jira').call<{ key: string }>('issues.create', { projectKey: 'OPS', summary, description });
    return { jiraKey: ticket.key };
  },
);
