import { z } from 'zod';
import { app, child, defineCallable, defineTool, mcp } from '../sdk/index.ts';
import { repoName, summarizePullRequest } from './summarize-pull-request.ts';

interface Note {
  id: string;
  title: string;
  owner: string;
}

/** Level 3: files a note in the `notes` upstream MCP server, as the caller (their own notes account). */
export const writeNote = defineCallable(
  {
    name: 'write_note',
    description: 'File a note in Notes as the caller.',
    input: z.object({ title: z.string().min(1).max(200), body: z.string() }),
    mcpServers: ['notes'],
  },
  async ({ title, body }) => mcp('notes').call<Note>('create_note', { title, body }),
);

/** Level 2: files the note (a child one level further down), then tells #triage in Slack, as the caller. */
export const sharePullRequestNote = defineCallable(
  {
    name: 'share_pull_request_note',
    description: 'File a note about a pull request and post it to Slack #triage.',
    input: z.object({ title: z.string().min(1), summary: z.string().min(1), url: z.string().min(1) }),
    apps: ['slack'],
    uses: [writeNote],
  },
  async ({ title, summary, url }) => {
    const note = await child(writeNote, { title: `PR: ${title}`.slice(0, 200), body: `${summary}\n${url}` });
    const posted = await app('slack').call<{ channel: string; ts: string }>('chat.postMessage', { channel: '#triage', text: `Noted ${url} as note ${note.id}` });
    return { note, slackChannel: posted.channel, slackTs: posted.ts };
  },
);

/**
 * The demo of an upstream MCP server inside a composite tool: three levels, two REST apps (GitHub, Slack)
 * and one upstream MCP server (Notes), all as the caller. Nothing connected? One answer asks for all three.
 */
export const notePullRequest = defineTool(
  {
    name: 'note_pull_request',
    title: 'Note a pull request',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    description: 'Read a GitHub pull request as you, file a note about it in Notes (an upstream MCP server) as you, and post the note to Slack #triage as you.',
    input: z.object({ repo: repoName, number: z.number().int().positive() }),
    uses: [summarizePullRequest, sharePullRequestNote],
  },
  async ({ repo, number }) => {
    const pr = await child(summarizePullRequest, { repo, number });
    const shared = await child(sharePullRequestNote, { title: pr.title, summary: pr.summary, url: pr.url });
    return { title: pr.title, url: pr.url, noteId: shared.note.id, noteOwner: shared.note.owner, slackChannel: shared.slackChannel };
  },
);
