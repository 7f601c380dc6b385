import type { IdentityContext } from '../../core/identity/context.ts';

/** The demo users as the gateway would describe them after sign-in. */
export const alice: IdentityContext = {
  subject: 'alice',
  email: 'alice@example.com',
  displayName: 'Alice Example',
  tenant: 'acme',
  authMethod: 'oauth',
  groups: ['engineering'],
  roles: ['member'],
  issuer: 'http://127.0.0.1/sandbox-idp',
  inboundTokenRef: 'vault:inbound/alice/1',
  headerOverrideRef: null,
  client: null,
  server: null,
};

export const bob: IdentityContext = {
  ...alice,
  subject: 'bob',
  email: 'bob@example.com',
  displayName: 'Bob Example',
  groups: ['support'],
  inboundTokenRef: 'vault:inbound/bob/1',
};

export const passwordOf = (identity: IdentityContext) => ({ username: identity.subject, password: identity.subject });
