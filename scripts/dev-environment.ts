import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface DevCredentials {
  github: { clientId: string; clientSecret: string };
  slack: { clientId: string; clientSecret: string };
  jira: { email: string; apiToken: string };
  /** The gateway's confidential client at the sandbox identity provider (browser sign-in). */
  idp: { clientId: string; clientSecret: string };
  /** The organisation's key for the sandbox's `status` MCP server. */
  status: { apiKey: string };
  /** The organisation's client that lists the sandbox `notes` server's tools (client credentials). */
  notesLister: { clientId: string; clientSecret: string };
  /** Baton's OAuth client at the sandbox CRM, which baton.yaml declares from its OpenAPI document (acme_crm). */
  crm: { clientId: string; clientSecret: string };
  /** Baton's OAuth client at the sandbox help desk, known only by its OpenAPI document (baton.yaml's helpdesk). */
  helpdesk: { clientId: string; clientSecret: string };
}

export const devPorts = {
  temporal: Number(process.env.BATON_TEMPORAL_PORT ?? 7233),
  temporalUi: Number(process.env.BATON_TEMPORAL_UI_PORT ?? 8233),
  gateway: Number(process.env.PORT ?? 3000),
  sandbox: Number(process.env.SANDBOX_PORT ?? 9100),
  workerMetrics: Number(process.env.BATON_WORKER_METRICS_PORT ?? 9464),
};

/** The sandbox apps' OAuth clients and Jira service account for `npm start`: random once, then kept under .baton/. */
export function loadDevCredentials(file: string): DevCredentials {
  const secret = () => randomBytes(24).toString('base64url');
  const fresh: DevCredentials = {
    github: { clientId: 'baton-dev-github', clientSecret: secret() },
    slack: { clientId: 'baton-dev-slack', clientSecret: secret() },
    jira: { email: 'baton-service@example.com', apiToken: secret() },
    idp: { clientId: 'baton-gateway', clientSecret: secret() },
    status: { apiKey: secret() },
    notesLister: { clientId: 'baton-notes-lister', clientSecret: secret() },
    crm: { clientId: 'baton-dev-crm', clientSecret: secret() },
    helpdesk: { clientId: 'baton-dev-helpdesk', clientSecret: secret() },
  };
  // Files written by older versions lack newer parts; fill those in and keep the rest.
  const credentials = existsSync(file) ? { ...fresh, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<DevCredentials>) } : fresh;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return credentials;
}

/** Environment that points a Baton process at the sandbox apps and the local Temporal. */
export function devEnvironment(credentials: DevCredentials, sandboxUrl: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${devPorts.temporal}`,
    PORT: String(devPorts.gateway),
    BATON_WORKER_METRICS_PORT: String(devPorts.workerMetrics),
    BATON_PUBLIC_URL: `http://127.0.0.1:${devPorts.gateway}`,
    BATON_SANDBOX_URL: sandboxUrl,
    BATON_IDP_ISSUER: `${sandboxUrl}/idp`,
    BATON_IDP_CLIENT_ID: credentials.idp.clientId,
    BATON_IDP_CLIENT_SECRET: credentials.idp.clientSecret,
    BATON_GITHUB_CLIENT_ID: credentials.github.clientId,
    BATON_GITHUB_CLIENT_SECRET: credentials.github.clientSecret,
    BATON_SLACK_CLIENT_ID: credentials.slack.clientId,
    BATON_SLACK_CLIENT_SECRET: credentials.slack.clientSecret,
    BATON_JIRA_SERVICE_USERNAME: credentials.jira.email,
    BATON_JIRA_SERVICE_PASSWORD: credentials.jira.apiToken,
    // The sandbox's upstream MCP servers, as baton.yaml's mcpServers name them.
    BATON_NOTES_MCP_URL: `${sandboxUrl}/notes/mcp`,
    BATON_STATUS_MCP_URL: `${sandboxUrl}/status/mcp`,
    BATON_STATUS_API_KEY: credentials.status.apiKey,
    BATON_NOTES_LISTER_ID: credentials.notesLister.clientId,
    BATON_NOTES_LISTER_SECRET: credentials.notesLister.clientSecret,
    // The CRM declared from its OpenAPI document (baton.yaml's acme_crm).
    BATON_CRM_OPENAPI_URL: `${sandboxUrl}/crm/openapi.json`,
    BATON_CRM_CLIENT_ID: credentials.crm.clientId,
    BATON_CRM_CLIENT_SECRET: credentials.crm.clientSecret,
    ...helpdeskEnvironment(credentials.helpdesk, sandboxUrl),
  };
}

/** What baton.yaml's `helpdesk` refers to: the sandbox help desk, which Baton knows only from its OpenAPI document. */
export function helpdeskEnvironment(client: { clientId: string; clientSecret: string }, sandboxUrl: string): Record<string, string> {
  return {
    BATON_HELPDESK_OPENAPI_URL: `${sandboxUrl}/helpdesk/openapi.json`,
    BATON_HELPDESK_CLIENT_ID: client.clientId,
    BATON_HELPDESK_CLIENT_SECRET: client.clientSecret,
    BATON_HELPDESK_REVOKE_URL: `${sandboxUrl}/helpdesk/oauth/revoke`,
  };
}
