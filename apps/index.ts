import { crm } from './crm.ts';
import { github } from './github.ts';
import { jira } from './jira.ts';
import { slack } from './slack.ts';
import type { AppConnector } from './types.ts';

/** Every connector Baton ships, by app id. */
export const connectors: ReadonlyMap<string, AppConnector> = new Map([github, slack, jira, crm].map((c) => [c.id, c]));

export type { AppConnector, AppAction, AppAnswer, AppEndpoints, AppRequest, CredentialMode, ExternalAccount } from './types.ts';
