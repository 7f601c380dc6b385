import type { RunningSandbox } from '../../sandbox/server.ts';

/**
 * The sandbox's notes upstream as the suites configure it, under `mcpServers:` (4-space indented lines):
 * each user connects it, the organisation's listing client lists its tools. `extra` adds fields to it.
 */
export function notesUpstreamYaml(sandbox: RunningSandbox, extra: string[] = []): string {
  return [
    '  notes:',
    '    displayName: Notes',
    `    url: ${sandbox.notesMcpUrl}`,
    '    credential: { mode: user_oauth }',
    '    toolsCredential: { mode: client_credentials, clientId: env:NOTES_LISTER_ID, clientSecret: env:NOTES_LISTER_SECRET, scopes: [notes:list] }',
    ...extra.map((line) => `    ${line}`),
    '',
  ].join('\n');
}

/** The sandbox's status upstream (the organisation's API key), under `mcpServers:`. */
export function statusUpstreamYaml(sandbox: RunningSandbox, extra: string[] = []): string {
  return [
    '  status:',
    `    url: ${sandbox.statusMcpUrl}`,
    '    credential: { mode: api_key, scope: shared, in: header, name: X-Api-Key, key: env:STATUS_KEY }',
    ...extra.map((line) => `    ${line}`),
    '',
  ].join('\n');
}

/** The environment those references read. */
export function upstreamEnv(sandbox: RunningSandbox): Record<string, string> {
  return { STATUS_KEY: sandbox.statusApiKey, NOTES_LISTER_ID: sandbox.notesListingClient.clientId, NOTES_LISTER_SECRET: sandbox.notesListingClient.clientSecret };
}
