import { ApplicationFailure } from '@temporalio/activity';
import type { AppConnector } from '../apps/index.ts';
import type { CredentialConfig } from '../core/config/file/schema.ts';
import type { AppSettings } from '../core/config/settings.ts';
import { UNVERIFIED_ISSUER } from '../core/identity/context.ts';
import type { OAuthAppClient } from '../core/oauth/oauth-app-client.ts';
import type { AuditLog } from '../core/audit/audit-log.ts';
import { ConnectionUnavailableError, RefreshRejectedError, type RefreshedTokens, type Refresher, type Vault } from '../core/vault/index.ts';
import { auditContextOf } from './audit-context.ts';
import type { Caller } from './caller-context.ts';
import { callerTokenCredential, isCallerTokenMode, type CallerTokenSources } from './caller-token-credentials.ts';
import { isOrganisationMode, organisationCredential, type OrganisationCredentialSources, type PresentedCredential } from './configured-credentials.ts';
import { FailureType, type ConnectionRequiredDetails } from './contract.ts';

export type { PresentedCredential } from './configured-credentials.ts';

export interface CredentialSources extends OrganisationCredentialSources, Pick<CallerTokenSources, 'tokenExchanges' | 'settings'> {
  vault: Vault;
  audit: AuditLog;
  oauthClients: ReadonlyMap<string, OAuthAppClient>;
  /** The tool's own override of an app's credential (configuration file, `tools.<tool>.credentials`). */
  toolCredential(tool: string, app: string): CredentialConfig | undefined;
}

/**
 * Picks the credential the app's configuration names for this caller. A user-mode app only ever gets
 * the caller's own connection: when it is missing the step pauses for consent (ConnectionRequired),
 * never falling back to a service account or another user.
 */
export async function resolveCredential(caller: Caller, connector: AppConnector, app: AppSettings, sources: CredentialSources): Promise<PresentedCredential> {
  const supplied = app.allowHeaderOverride ? await callerSuppliedHeaders(caller, app.id, sources.vault) : undefined;
  if (supplied) {
    // The same check as a caller's own connection: an API token or an unverified caller is nobody's user.
    refuseServiceCaller(caller, connector);
    return { headers: supplied, owner: 'user', externalAccount: 'headers supplied by the caller', suppliedByClient: true };
  }
  const configured = sources.toolCredential(caller.binding.tool, app.id) ?? app.credential;
  if (configured?.mode === 'api_key' && configured.scope === 'individual') {
    refuseServiceCaller(caller, connector);
    // The user's own key, entered on Baton's page; it never expires on its own, so nothing refreshes it.
    const { secret, login } = await userSecret(caller, connector, app, sources.vault, async () => {
      throw new Error(`${connector.displayName} API keys are not refreshed`);
    });
    const presented = configured.in === 'header' ? { headers: { [configured.name.toLowerCase()]: secret } } : { headers: {}, query: { [configured.name]: secret } };
    return { ...presented, owner: 'user', externalAccount: login };
  }
  if (isOrganisationMode(configured)) return organisationCredential(connector, app, configured, sources);
  if (isCallerTokenMode(configured)) return callerTokenCredential(caller, connector, configured, sources);
  if ((configured?.mode ?? app.mode) === 'service_account') return serviceAccountCredential(connector, sources);
  refuseServiceCaller(caller, connector);
  const oauthClient = sources.oauthClients.get(connector.id);
  if (!oauthClient) {
    throw ApplicationFailure.nonRetryable(`${connector.displayName} has no OAuth client configured, so users cannot connect it.`, FailureType.appRequestFailed);
  }
  const { secret, login } = await userSecret(
    caller,
    connector,
    app,
    sources.vault,
    auditedRefresh(caller, connector, sources.audit, (token) => oauthClient.refresh(token)),
  );
  return { headers: { authorization: `Bearer ${secret}` }, owner: 'user', externalAccount: login };
}

/** Callers that are nobody in particular (API tokens, unverified passthrough callers) have no personal connections. */
export function refuseServiceCaller(caller: Caller, connector: AppConnector): void {
  const { identity } = caller;
  if (identity.authMethod === 'api_token') {
    throw ApplicationFailure.nonRetryable(
      `API-token callers have no personal connections, and ${connector.displayName} is configured to use each user's own connection; use OAuth sign-in or a service-account tool.`,
      FailureType.appRequestFailed,
    );
  }
  if (identity.issuer === UNVERIFIED_ISSUER) {
    throw ApplicationFailure.nonRetryable(
      `Unverified callers of a passthrough server have no personal connections, and ${connector.displayName} is configured to use each user's own connection; turn on JWT validation for the server or use a service-account tool.`,
      FailureType.appRequestFailed,
    );
  }
}

/** The caller's own secret for the app from the vault; when there is none (or it is broken) the step pauses for them to connect. */
async function userSecret(caller: Caller, connector: AppConnector, app: AppSettings, vault: Vault, refresh: Refresher): Promise<{ secret: string; login: string }> {
  const { tenant, subject } = caller.identity;
  try {
    const { accessToken, info } = await vault.resolveUserAccessToken({ tenant, subject, app: connector.id, refresh });
    return { secret: accessToken, login: info.externalLogin };
  } catch (error) {
    if (error instanceof ConnectionUnavailableError) throw connectionRequired(connector, app, error.reason, explainMissing(caller, connector, error.reason));
    throw error;
  }
}

export function connectionRequired(connector: AppConnector, app: AppSettings, reason: ConnectionRequiredDetails['reason'], message: string): ApplicationFailure {
  const details: ConnectionRequiredDetails = { app: connector.id, appName: connector.displayName, scopes: app.scopes, reason, message };
  return ApplicationFailure.create({ message, type: FailureType.connectionRequired, nonRetryable: true, details: [details] });
}

/** What the user reads next to the consent link: what happened and what to do. */
function explainMissing(caller: Caller, connector: AppConnector, reason: ConnectionRequiredDetails['reason']): string {
  const who = caller.identity.displayName ?? caller.identity.subject;
  const app = connector.displayName;
  switch (reason) {
    case 'never_connected':
      return `${who} has not connected ${app} yet; connect it and the run continues.`;
    case 'revoked':
      return `${who}'s ${app} connection was revoked; connect ${app} again and the run continues.`;
    case 'refresh_failed':
      return `${app} refused to renew ${who}'s connection (the refresh token is no longer valid); connect ${app} again and the run continues.`;
    case 'expired':
      return `${who}'s ${app} connection expired and cannot be renewed; connect ${app} again and the run continues.`;
    case 'unreadable':
      return `${who}'s stored ${app} credential is corrupted and cannot be read; connect ${app} again to replace it and the run continues.`;
  }
}

async function serviceAccountCredential(connector: AppConnector, { vault }: CredentialSources): Promise<PresentedCredential> {
  const secret = await vault.getServiceCredential(connector.id);
  if (!secret) {
    throw ApplicationFailure.nonRetryable(
      `No service account is stored for ${connector.displayName}; an administrator must add one (see README, "Service accounts").`,
      FailureType.serviceAccountMissing,
    );
  }
  if (connector.serviceAuth === 'basic') {
    const basic = Buffer.from(`${secret.username}:${secret.password}`).toString('base64');
    return { headers: { authorization: `Basic ${basic}` }, owner: 'service_account', externalAccount: secret.username ?? null };
  }
  return { headers: { authorization: `Bearer ${secret.token}` }, owner: 'service_account', externalAccount: `${connector.id} service account` };
}

/** The headers the client sent for this app with the call (X-Baton-Forward-Headers), kept in the vault for the run. */
async function callerSuppliedHeaders(caller: Caller, app: string, vault: Vault): Promise<Record<string, string> | undefined> {
  const { identity } = caller;
  const ref = identity.headerOverrideRef?.replace(/^vault:/, '');
  const stored = ref ? await vault.getInboundToken(ref, identity) : undefined;
  return stored ? (JSON.parse(stored.token) as Record<string, Record<string, string>>)[app] : undefined;
}

/** Wraps the refresher the vault calls (once per actual refresh, whichever process holds the lease) so each refresh is on the trail. */
function auditedRefresh(caller: Caller, connector: AppConnector, audit: AuditLog, refresh: Refresher): Refresher {
  return async (refreshToken) => {
    const started = Date.now();
    const record = async (kind: 'connection.refreshed' | 'connection.refresh_failed', outcome: string, message: string | null) => {
      await audit.record({ ...auditContextOf(caller), kind, outcome, app: connector.id, durationMs: Date.now() - started, message });
    };
    let tokens: RefreshedTokens;
    try {
      tokens = await refresh(refreshToken);
    } catch (error) {
      await record('connection.refresh_failed', error instanceof RefreshRejectedError ? 'rejected' : 'failed', error instanceof Error ? error.message : String(error));
      throw error;
    }
    await record('connection.refreshed', 'ok', null);
    return tokens;
  };
}
