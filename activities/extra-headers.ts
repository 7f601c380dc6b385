import { ApplicationFailure } from '@temporalio/activity';
import type { AppConnector } from '../apps/index.ts';
import type { AppSettings } from '../core/config/settings.ts';
import { ConnectionUnavailableError, type Vault } from '../core/vault/index.ts';
import type { Caller } from './caller-context.ts';
import { callerToken } from './caller-token-credentials.ts';
import { secretReader, type OrganisationCredentialSources } from './configured-credentials.ts';
import { refuseBatonAudience } from './baton-audience.ts';
import { FailureType } from './contract.ts';
import { refuseServiceCaller } from './credentials.ts';

export interface ExtraHeaderSources extends OrganisationCredentialSources {
  vault: Vault;
  settings: { publicUrl: string };
}

/**
 * The headers the configuration adds to every call of an app, on top of its credential: the caller's
 * own token, who the caller is, an OAuth2 service token, a credential stored in the vault (the
 * organisation's, or the caller's own), or a fixed value. Never anything the client sent.
 */
export async function extraHeaders(caller: Caller, connector: AppConnector, app: AppSettings, sources: ExtraHeaderSources): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const header of app.headers) {
    const name = header.name.toLowerCase();
    switch (header.from) {
      case 'static':
        headers[name] = header.value;
        break;
      case 'caller_identity': {
        const value = header.field === 'email' ? caller.identity.email : caller.identity.subject;
        if (value) headers[name] = value;
        break;
      }
      case 'caller_token': {
        const { token } = await callerToken(caller, connector, sources.vault);
        refuseBatonAudience(token, connector, caller.identity.subject, sources.settings.publicUrl, `send the caller's token (the ${header.name} header) to`);
        headers[name] = `${header.prefix}${token}`;
        break;
      }
      case 'service_token': {
        const secret = secretReader(connector, sources.secretsDir, sources.env);
        const clientId = secret(header.clientId, `${header.name} header client id`);
        const token = await sources.clientCredentials.token(`header\0${header.tokenUrl}\0${clientId}`, {
          tokenUrl: header.tokenUrl,
          clientId,
          clientSecret: secret(header.clientSecret, `${header.name} header client secret`),
          scopes: header.scopes,
        });
        headers[name] = `${header.prefix}${token}`;
        break;
      }
      case 'vault':
        headers[name] = `${header.prefix}${await vaultCredential(caller, connector, header.credential, header.perUser, sources.vault)}`;
        break;
    }
  }
  return headers;
}

/** A vault credential for a header: the organisation's (a stored service credential), or the caller's own connection. */
async function vaultCredential(caller: Caller, connector: AppConnector, credential: string, perUser: boolean, vault: Vault): Promise<string> {
  const missing = (whose: string) =>
    ApplicationFailure.nonRetryable(
      `${connector.displayName} calls need the vault credential "${credential}" (${whose}), and there is none; an administrator must store it.`,
      FailureType.serviceAccountMissing,
    );
  if (!perUser) {
    const stored = await vault.getServiceCredential(credential);
    const value = stored?.token ?? stored?.key;
    if (!value) throw missing("the organisation's");
    return value;
  }
  refuseServiceCaller(caller, connector); // nobody-in-particular callers have no credential of their own
  const { tenant, subject } = caller.identity;
  try {
    const { accessToken } = await vault.resolveUserAccessToken({
      tenant,
      subject,
      app: credential,
      refresh: async () => {
        throw new Error(`the "${credential}" credential of ${subject} cannot be renewed here`);
      },
    });
    return accessToken;
  } catch (error) {
    if (error instanceof ConnectionUnavailableError) throw missing(`${subject}'s own`);
    throw error;
  }
}
