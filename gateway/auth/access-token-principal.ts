import type { JWTPayload } from 'jose';
import type { Principal } from './principal.ts';

/**
 * Builds the Principal from a verified access token's claims. Optional claims of the wrong type are
 * ignored rather than trusted in some coerced form: a `groups` that is not an array of strings grants
 * no groups.
 */
export interface ClaimNames {
  /** Claim holding the tenant; default `tenant`. */
  tenant?: string;
  /** Claim holding the groups (an array of strings); default `groups`. */
  groups?: string;
}

/** How a provider other than the home one maps its own tenant and group names onto Baton's (the operator's tables). */
export interface ForeignClaimMaps {
  tenants?: Readonly<Record<string, string>>;
  groups?: Readonly<Record<string, string>>;
}

export function principalFromClaims(claims: JWTPayload & { sub: string; iss: string; exp: number }, defaultTenant: string, names: ClaimNames = {}): Principal {
  const clientId = nonEmptyString(claims.client_id) ?? nonEmptyString(claims.azp);
  return {
    // RFC 9068 §2.2: with no resource owner involved (client credentials), `sub` is the client's own id.
    kind: clientId !== null && claims.sub === clientId ? 'service' : 'user',
    authMethod: 'oauth',
    subject: claims.sub,
    email: nonEmptyString(claims.email),
    name: nonEmptyString(claims.name),
    tenant: nonEmptyString(claims[names.tenant ?? 'tenant']) ?? defaultTenant,
    groups: stringArray(claims[names.groups ?? 'groups']) ?? [],
    issuer: claims.iss,
    clientId,
    scopes: scopesOf(claims),
    expiresAt: claims.exp,
    apiTokenId: null,
  };
}

/**
 * What another identity provider (a secondary one, a passthrough server's) asserts, kept as its own: its subject,
 * tenant and groups become `<issuer>#<name>` unless the operator's tables map a tenant or group onto Baton's, and
 * its e-mail is dropped — only the home provider's e-mail is forwarded to apps or written to the audit trail.
 * A token without a tenant claim gets the tenant the operator configured for it (`defaultTenant`).
 *
 * @example
 * ```ts
 * foreignPrincipal(principal, { org: 'globex', teams: ['platform', 'sales'] }, 'https://idp.partner', { tenant: 'org', groups: 'teams' }, { groups: { platform: 'platform' } });
 * // → subject 'https://idp.partner#…', tenant 'https://idp.partner#globex', groups ['platform', 'https://idp.partner#sales'], email null
 * ```
 */
export function foreignPrincipal(principal: Principal, claims: JWTPayload, issuer: string, names: ClaimNames = {}, maps: ForeignClaimMaps = {}): Principal {
  const own = (name: string) => `${issuer}#${name}`;
  const claimedTenant = nonEmptyString(claims[names.tenant ?? 'tenant']);
  return {
    ...principal,
    subject: own(principal.subject),
    email: null,
    tenant: claimedTenant === null ? principal.tenant : (mapped(maps.tenants, claimedTenant) ?? own(claimedTenant)),
    groups: [...new Set(principal.groups.map((group) => mapped(maps.groups, group) ?? own(group)))],
  };
}

/** `table[key]` for the table's own keys only (a claim named `constructor` maps to nothing). */
function mapped(table: Readonly<Record<string, string>> | undefined, key: string): string | undefined {
  return table && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `scope` is RFC 9068's space-separated string; some providers send `scp` as an array (or a string). */
function scopesOf(claims: JWTPayload): string[] {
  const raw = typeof claims.scope === 'string' ? claims.scope : claims.scp;
  const scopes = typeof raw === 'string' ? raw.split(/\s+/) : (stringArray(raw) ?? []);
  return [...new Set(scopes.filter((scope) => scope.length > 0))];
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}
