import type { Account, FindAccount } from 'oidc-provider';
import { findUser, type DemoUser } from '../users.ts';

/** The claims the sandbox identity provider asserts about a person, named as in its tokens. */
export interface IdentityClaims {
  /** The user name: stable, and what Baton's audit records and vault rows are keyed by. */
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
  groups: string[];
  tenant: string;
}

export function identityClaimsOf(user: DemoUser): IdentityClaims {
  return {
    sub: user.username,
    email: user.email,
    email_verified: true,
    name: user.name,
    groups: [...user.groups],
    tenant: user.tenant,
  };
}

/** Which claims each scope releases in ID tokens and userinfo; groups and tenant come with openid itself. */
export const claimsByScope = {
  openid: ['sub', 'groups', 'tenant'],
  profile: ['name'],
  email: ['email', 'email_verified'],
};

/** The demo users are the accounts; oidc-provider filters the claims by the granted scopes. */
export const findAccount: FindAccount = (_ctx, sub): Account | undefined => {
  const user = findUser(sub);
  if (!user) return undefined;
  return { accountId: user.username, claims: () => ({ ...identityClaimsOf(user) }) };
};
