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
