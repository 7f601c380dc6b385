import { ApplicationFailure } from '@temporalio/activity';
import type { AppConnector } from '../apps/index.ts';
import { describeSecretRef, readSecret, SecretUnavailableError, type SecretRef } from '../core/config/file/secret-ref.ts';
import type { CredentialConfig } from '../core/config/file/schema.ts';
import type { AppSettings } from '../core/config/settings.ts';
import type { ClientCredentialsTokens } from '../core/oauth/client-credentials.ts';
import { FailureType } from './contract.ts';

/** What the app call presents: headers, query parameters, and whose credential it is for the audit trail. */
export interface PresentedCredential {
  headers: Record<string, string>;
  query?: Record<string, string>;
  owner: 'user' | 'service_account' | 'none';
  externalAccount: string | null;
  /** The client sent these headers with the call (X-Baton-Forward-Headers): configured headers must win over them. */
  suppliedByClient?: true;
}

export interface OrganisationCredentialSources {
  secretsDir: string;
  /** Where `env:` references are read; the process's environment unless given (a gateway started in-process by tests). */
  env?: NodeJS.ProcessEnv;
  clientCredentials: ClientCredentialsTokens;
}

type OrganisationMode = Extract<CredentialConfig, { mode: 'none' | 'bearer' | 'basic' | 'api_key' | 'client_credentials' }>;

export const isOrganisationMode = (credential: CredentialConfig | undefined): credential is OrganisationMode =>
  credential !== undefined && ['none', 'bearer', 'basic', 'api_key', 'client_credentials'].includes(credential.mode);

/**
 * Credentials that belong to the organisation, not to the caller, as the configuration file declares
 * them: no auth, a static bearer token, Basic, a shared API key (header or query), or a token from the
 * client-credentials grant. Secrets are read at call time from their references and never leave here.
 */
/** Reads a secret reference at call time; a missing secret fails the call with what to provide. */
export function secretReader(connector: AppConnector, secretsDir: string, env: NodeJS.ProcessEnv = process.env) {
  return (ref: SecretRef, field: string): string => {
    try {
      return readSecret(ref, { env, baseDir: secretsDir });
    } catch (error) {
      if (!(error instanceof SecretUnavailableError)) throw error;
      throw ApplicationFailure.nonRetryable(
        `${connector.displayName}'s ${field} (${describeSecretRef(ref)}) is unavailable: ${error.message}. An administrator must provide it.`,
        FailureType.serviceAccountMissing,
      );
    }
  };
}

export async function organisationCredential(connector: AppConnector, app: AppSettings, credential: OrganisationMode, sources: OrganisationCredentialSources): Promise<PresentedCredential> {
  const secret = secretReader(connector, sources.secretsDir, sources.env);
  const organisation = (headers: Record<string, string>, externalAccount: string, query?: Record<string, string>): PresentedCredential => ({
    headers,
    query,
    owner: 'service_account',
    externalAccount,
  });
  switch (credential.mode) {
    case 'none':
      return { headers: {}, owner: 'none', externalAccount: null };
    case 'bearer':
      return organisation({ authorization: `Bearer ${secret(credential.token, 'bearer token')}` }, `${connector.id} bearer token`);
    case 'basic': {
      const username = secret(credential.username, 'user name');
      return organisation({ authorization: `Basic ${Buffer.from(`${username}:${secret(credential.password, 'password')}`).toString('base64')}` }, username);
    }
    case 'api_key': {
      const key = secret(credential.key!, 'API key');
      const account = `${connector.id} organisation API key`;
      return credential.in === 'header' ? organisation({ [credential.name.toLowerCase()]: key }, account) : organisation({}, account, { [credential.name]: key });
    }
    case 'client_credentials': {
      const tokenUrl = credential.tokenUrl ?? app.endpoints.tokenUrl;
      if (!tokenUrl) throw ApplicationFailure.nonRetryable(`${connector.displayName} has no token URL for the client-credentials grant; set credential.tokenUrl.`, FailureType.serviceAccountMissing);
      const clientId = secret(credential.clientId, 'client id');
      const token = await sources.clientCredentials.token(`${connector.id}\0${clientId}`, {
        tokenUrl,
        clientId,
        clientSecret: secret(credential.clientSecret, 'client secret'),
        scopes: credential.scopes,
        // A token for an upstream MCP server is bound to it (RFC 8707), as the MCP authorization spec requires.
        resource: app.connector.upstream?.url,
      });
      return organisation({ authorization: `Bearer ${token}` }, `client:${clientId}`);
    }
  }
}
