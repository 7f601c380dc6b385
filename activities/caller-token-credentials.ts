import { ApplicationFailure } from '@temporalio/activity';
import type { AppConnector } from '../apps/index.ts';
import type { CredentialConfig } from '../core/config/file/schema.ts';
import type { TokenExchanges } from '../core/oauth/token-exchange.ts';
import type { Vault } from '../core/vault/index.ts';
import type { Caller } from './caller-context.ts';
import type { PresentedCredential } from './configured-credentials.ts';
import { secretReader } from './configured-credentials.ts';
import { audiencesOf, refuseBatonAudience } from './baton-audience.ts';
import { FailureType } from './contract.ts';

type CallerTokenMode = Extract<CredentialConfig, { mode: 'passthrough' | 'token_exchange' }>;

export const isCallerTokenMode = (credential: CredentialConfig | undefined): credential is CallerTokenMode => credential?.mode === 'passthrough' || credential?.mode === 'token_exchange';

export interface CallerTokenSources {
  vault: Vault;
  secretsDir: string;
  tokenExchanges: TokenExchanges;
  /** Where Baton's own resources live: a caller token for them is never handed to an app. */
  settings: { publicUrl: string };
}

/**
 * Credentials made from the caller's own inbound token, which the gateway kept in the vault for this run
 * (the workflow holds only its reference): forwarded as is to an app that trusts the same issuer, or
 * exchanged (RFC 8693) for a token meant for the app.
 */
/** The caller's inbound token the gateway kept for this run; fails the call clearly when there is none. */
export async function callerToken(caller: Caller, connector: AppConnector, vault: Vault): Promise<{ ref: string; token: string }> {
  const { identity } = caller;
  const ref = identity.inboundTokenRef?.replace(/^vault:/, '');
  const stored = ref ? await vault.getInboundToken(ref, identity) : undefined;
  if (!ref || !stored) {
    const why =
      identity.authMethod === 'api_token'
        ? 'API-token callers have no token of their own to pass on'
        : !ref
          ? 'the caller sent no token to pass on'
          : "the caller's sign-in token is no longer available (it expired)";
    throw ApplicationFailure.nonRetryable(`${connector.displayName} is given the caller's own token, but ${why}; sign in again and call the tool again.`, FailureType.appRequestFailed);
  }
  return { ref, token: stored.token };
}

export async function callerTokenCredential(caller: Caller, connector: AppConnector, credential: CallerTokenMode, sources: CallerTokenSources): Promise<PresentedCredential> {
  const { identity } = caller;
  const stored = await callerToken(caller, connector, sources.vault);
  const ref = stored.ref;
  const asCaller = (token: string): PresentedCredential => ({ headers: { authorization: `Bearer ${token}` }, owner: 'user', externalAccount: identity.subject });
  if (credential.mode === 'passthrough') {
    if (!credential.trustedIssuers.includes(identity.issuer)) {
      throw ApplicationFailure.nonRetryable(
        `Baton does not forward ${identity.subject}'s token to ${connector.displayName}: it was issued by ${identity.issuer}, which ${connector.displayName} is not configured to trust (trustedIssuers).`,
        FailureType.appRequestFailed,
      );
    }
    refuseBatonAudience(stored.token, connector, identity.subject, sources.settings.publicUrl, 'forward the caller’s own token to');
    if (credential.audience !== undefined && !audiencesOf(stored.token).includes(credential.audience)) {
      throw ApplicationFailure.nonRetryable(
        `Baton does not forward ${identity.subject}'s token to ${connector.displayName}: it was not issued for ${credential.audience} (the audience apps.${connector.id}.credential names).`,
        FailureType.appRequestFailed,
      );
    }
    return asCaller(stored.token);
  }
  const secret = secretReader(connector, sources.secretsDir);
  const clientId = secret(credential.clientId, 'token-exchange client id');
  const token = await sources.tokenExchanges.token(`${ref}\0${connector.id}`, {
    tokenUrl: credential.tokenUrl,
    clientId,
    clientSecret: secret(credential.clientSecret, 'token-exchange client secret'),
    subjectToken: stored.token,
    resource: credential.resource,
    audience: credential.audience,
    scopes: credential.scopes,
  });
  return asCaller(token);
}
