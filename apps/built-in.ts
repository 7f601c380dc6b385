/**
 * The connectors Baton ships, as an app module: registered the way a builder's own are (`appsFrom` in
 * baton.yaml names modules like this one), always first. Each exports `apps`, an array of connectors.
 */
import { crm } from './crm.ts';
import { github } from './github.ts';
import { jira } from './jira.ts';
import { slack } from './slack.ts';
import type { AppConnector } from './types.ts';

export const apps: AppConnector[] = [github, slack, jira, crm];
