import { randomBytes } from 'node:crypto';
import type { OAuthClient } from './oauth-server.ts';
import { randomToken } from './tokens.ts';
import { demoUsers } from './users.ts';

/** The CRM's service user, for HTTP Basic. */
export interface CrmServiceAccount {
  username: string;
  password: string;
}

/** `startSandbox({ crm })`: every credential is generated when not given. */
export interface CrmOptions {
  /** OAuth clients registered with the CRM, for user sign-in (authorization code) and client credentials. */
  clients?: OAuthClient[];
  /** The organisation-wide API key (an admin creates it; it acts for the organisation, not a person). */
  organisationApiKey?: string;
  /** The static bearer "integration token" an admin issues to one integration. */
  integrationToken?: string;
  serviceAccount?: CrmServiceAccount;
  /**
   * What the CRM does with an identity-provider token issued for another audience (a caller's own token
   * passed through): `accept` (default) serves it and logs it as `idp_jwt_foreign_audience`, so a test
   * can see the pass-through happened; `reject` answers 401 `invalid_audience`, as a strict resource
   * server would. Tokens with the CRM's own audience are accepted either way.
   */
  foreignAudienceTokens?: 'accept' | 'reject';
}

/** Everything a caller could authenticate to the CRM with, resolved once per sandbox instance. */
export interface CrmCredentials {
  clients: OAuthClient[];
  organisationApiKey: string;
  /**
   * Each demo user's personal API key, by user name: random per sandbox instance, because a real user
   * copies theirs from the CRM's settings page rather than knowing it in advance.
   */
  userApiKeys: Record<string, string>;
  integrationToken: string;
  serviceAccount: CrmServiceAccount;
  foreignAudienceTokens: 'accept' | 'reject';
}

/** What a test needs to call the CRM with each kind of credential: `RunningSandbox.crm` and GET /_sandbox/crm. */
export interface RunningCrm {
  /** `${sandboxUrl}/crm`: the `resource` to ask the identity provider for, and the `aud` the CRM expects. */
  resource: string;
  /** Registered OAuth clients: authorization code for users, and client credentials. */
  clients: OAuthClient[];
  organisationApiKey: string;
  /** alice's and bob's personal API keys, by user name. */
  userApiKeys: Record<string, string>;
  integrationToken: string;
  serviceAccount: CrmServiceAccount;
}

export function resolveCrmCredentials(options: CrmOptions = {}): CrmCredentials {
  return {
    clients: options.clients?.length ? options.clients.map((client) => ({ ...client })) : [{ clientId: `baton-crm-${randomBytes(6).toString('hex')}`, clientSecret: randomToken('crm_cs_') }],
    organisationApiKey: options.organisationApiKey ?? randomToken('crm_org_'),
    userApiKeys: Object.fromEntries(demoUsers.map((user) => [user.username, randomToken('crm_uk_')])),
    integrationToken: options.integrationToken ?? randomToken('crm_int_'),
    serviceAccount: options.serviceAccount ? { ...options.serviceAccount } : { username: 'crm-service', password: randomToken('crm_pw_', 18) },
    foreignAudienceTokens: options.foreignAudienceTokens ?? 'accept',
  };
}

/** A copy for callers, so nothing they change reaches the CRM's own. */
export function publicCrmCredentials(credentials: CrmCredentials, resource: string): RunningCrm {
  return {
    resource,
    clients: credentials.clients.map((client) => ({ ...client })),
    organisationApiKey: credentials.organisationApiKey,
    userApiKeys: { ...credentials.userApiKeys },
    integrationToken: credentials.integrationToken,
    serviceAccount: { ...credentials.serviceAccount },
  };
}

/** The secret parts, for the sandbox's issued-secrets list (client ids and the service user name are not). */
export function crmSecrets(credentials: CrmCredentials): string[] {
  return [
    ...credentials.clients.map((client) => client.clientSecret),
    credentials.organisationApiKey,
    ...Object.values(credentials.userApiKeys),
    credentials.integrationToken,
    credentials.serviceAccount.password,
  ];
}
