import express, { type ErrorRequestHandler } from 'express';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxContext } from './context.ts';
import { createControls } from './controls.ts';
import { createCrm, crmPath } from './crm.ts';
import { crmSecrets, publicCrmCredentials, resolveCrmCredentials, type CrmOptions, type RunningCrm } from './crm-credentials.ts';
import { DelayRules } from './delays.ts';
import { createHelpdesk, type HelpdeskOptions, type RunningHelpdesk } from './helpdesk.ts';
import { createGithub } from './github.ts';
import { createIdentityProvider, type IdpOptions } from './idp/identity-provider.ts';
import { IdempotencyStore } from './idempotency.ts';
import { IssuedSecrets } from './issued-secrets.ts';
import { createJira, type JiraServiceAccount } from './jira.ts';
import type { OAuthClient } from './oauth-server.ts';
import { RequestLog } from './request-log.ts';
import { createSlack } from './slack.ts';
import type { NotesListingClient } from './upstreams/notes-auth.ts';
import { createNotes } from './upstreams/notes-server.ts';
import { createStatus, generateStatusApiKey } from './upstreams/status-server.ts';

export type { OAuthClient } from './oauth-server.ts';
export type { CrmOptions, CrmServiceAccount, RunningCrm } from './crm-credentials.ts';
export type { HelpdeskOptions, HelpdeskTicket, RunningHelpdesk } from './helpdesk.ts';
export type { IdpConfidentialClient, IdpOptions } from './idp/identity-provider.ts';
export { cliClient } from './idp/identity-provider.ts';
export type { LoggedRequest, LoggedCredential } from './request-log.ts';
export type { CredentialKind } from './credentials.ts';
export type { NotesToolName } from './upstreams/notes-modes.ts';
export type { NotesTokenRefusal } from './upstreams/notes-tokens.ts';

export interface SandboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 3600; also changeable at runtime with POST /_sandbox/settings. */
  accessTokenTtlSeconds?: number;
  /** The OAuth client Baton is registered as, per app. */
  clients: { github: OAuthClient; slack: OAuthClient };
  /** The Jira service account (Basic auth as on Jira Cloud). */
  jiraServiceAccount: JiraServiceAccount;
  /** The identity provider under /idp; it always runs, with `baton-cli` and dynamic registration only when omitted. */
  idp?: IdpOptions;
  /** The CRM under /crm; it always runs, and generates whatever credential is not given. */
  crm?: CrmOptions;
  /** The help desk under /helpdesk, known to Baton only by its OpenAPI document; generates what is not given. */
  helpdesk?: HelpdeskOptions;
  /** The `X-Api-Key` the status MCP server (/status/mcp) accepts; generated when omitted. */
  statusApiKey?: string;
  /** The organisation's client at the notes authorization server that lists its tools (client credentials); generated when omitted. */
  notesListingClient?: NotesListingClient;
}

export interface RunningSandbox {
  /** http://HOST:PORT, no trailing slash. */
  url: string;
  /** The identity provider's issuer: `${url}/idp` (discovery at `${idpIssuer}/.well-known/openid-configuration`). */
  idpIssuer: string;
  crm: RunningCrm;
  helpdesk: RunningHelpdesk;
  /** The notes MCP server (OAuth-protected, per the MCP authorization spec): `${url}/notes/mcp`. */
  notesMcpUrl: string;
  /** The notes server's own authorization server: `${url}/notes-auth`. */
  notesIssuer: string;
  /** The status MCP server (API key in `X-Api-Key`): `${url}/status/mcp`. */
  statusMcpUrl: string;
  statusApiKey: string;
  /** The client that may list the notes server's tools (client credentials, scope notes:list), never call one. */
  notesListingClient: NotesListingClient;
  close(): Promise<void>;
}

/**
 * Starts a stand-in for GitHub, Slack, Jira, a CRM and a help desk on one local HTTP server: each app's OAuth
 * 2.1 authorization server and API under /github, /slack, /jira, /crm and /helpdesk, an OpenID Connect identity
 * provider under /idp, two upstream MCP servers (notes, OAuth-protected with its own authorization
 * server under /notes-auth, and status, behind an API key; see upstreams/), plus test controls under
 * /_sandbox. All state belongs to this instance.
 */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  let url = '';
  const ctx: SandboxContext = {
    publicUrl: () => url,
    settings: { accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600 },
    requestLog: new RequestLog(),
    idempotency: new IdempotencyStore(),
    delays: new DelayRules(),
    secrets: new IssuedSecrets(),
  };
  const crmCredentials = resolveCrmCredentials(options.crm);
  const statusApiKey = options.statusApiKey ?? generateStatusApiKey();
  const notesListingClient = options.notesListingClient ?? { clientId: 'notes-tools-lister', clientSecret: randomBytes(24).toString('base64url') };
  for (const secret of [
    options.clients.github.clientSecret,
    options.clients.slack.clientSecret,
    options.jiraServiceAccount.apiToken,
    ...crmSecrets(crmCredentials),
    statusApiKey,
    notesListingClient.clientSecret,
  ]) {
    ctx.secrets.add(secret);
  }

  // The identity provider's issuer names the port, so the server listens before the app is built.
  const host = options.host ?? '127.0.0.1';
  const server = createServer();
  server.listen(options.port ?? 0, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  // The CRM accepts the identity provider's tokens, so the provider comes first.
  const [idp, notes] = await Promise.all([
    createIdentityProvider({ ...options.idp, sandboxUrl: url, onIssued: (secret) => ctx.secrets.add(secret) }),
    createNotes(ctx, { listingClient: notesListingClient }),
  ]).catch((error: unknown) => {
    server.close();
    throw error;
  });
  const status = createStatus(ctx, { apiKey: statusApiKey });
  const github = createGithub(ctx, options.clients.github);
  const slack = createSlack(ctx, options.clients.slack);
  const jira = createJira(ctx, options.jiraServiceAccount);
  const crm = createCrm(ctx, { credentials: crmCredentials, verifyIdpToken: idp.verifyAccessToken });
  const runningCrm: RunningCrm = publicCrmCredentials(crmCredentials, `${url}${crmPath}`);
  const helpdesk = createHelpdesk(ctx, options.helpdesk);
  for (const secret of helpdesk.secrets) ctx.secrets.add(secret);

  const app = express();
  app.disable('x-powered-by');
  app.use(github.router, slack.router, jira.router, crm.router, helpdesk.router, idp.router, notes.router, status.router);
  app.use('/_sandbox', createControls(ctx, { github, slack, jira, crm, helpdesk, notes, status }, runningCrm));
  app.use(errorHandler);
  server.on('request', app);

  return {
    url,
    idpIssuer: idp.issuer,
    crm: runningCrm,
    helpdesk: helpdesk.running,
    notesMcpUrl: notes.mcpUrl,
    notesIssuer: notes.issuer,
    statusMcpUrl: status.mcpUrl,
    statusApiKey,
    notesListingClient,
    close: async () => {
      // Open MCP sessions and streams first: their keep-alive timers would otherwise outlive the server.
      await Promise.all([notes.close(), status.close()]);
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections would otherwise hold close() open until they time out.
        server.closeAllConnections();
      });
    },
  };
}

/** Malformed bodies and unexpected failures still get a JSON answer (and so a request-log entry). */
const errorHandler: ErrorRequestHandler = (error: { status?: number; statusCode?: number; message?: string }, _req, res, _next) => {
  const status = error.status ?? error.statusCode ?? 500;
  if (res.headersSent) return;
  res.status(status).json({
    error: status < 500 ? 'invalid_request' : 'server_error',
    message: status < 500 ? (error.message ?? 'Bad request') : 'Internal sandbox error',
  });
};
