import type { CallableDefinition } from './sdk/define.ts';
import { notePullRequest } from './tools/note-pull-request.ts';
import { openOpsTicket } from './tools/open-ops-ticket.ts';
import { readPullRequest } from './tools/read-pull-request.ts';
import { triagePullRequest } from './tools/triage-pull-request.ts';

/** The tools this deployment exposes. Callables they use are found through `uses`. */
export const tools: readonly CallableDefinition[] = [triagePullRequest, readPullRequest, openOpsTicket, notePullRequest];
