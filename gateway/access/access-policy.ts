import type { AccessConfig, BatonConfig, ServerConfig } from '../../core/config/file/schema.ts';
import { UNVERIFIED_ISSUER } from '../../core/identity/context.ts';
import type { Principal } from '../auth/principal.ts';
import type { AccessGrants } from './access-grants.ts';

export type Role = BatonConfig['roles'][string];

/** `api-token:<name>` → `<name>`: access lists name API tokens by their name. */
const apiTokenName = (principal: Principal) => (principal.authMethod === 'api_token' ? principal.subject.replace(/^api-token:/, '') : undefined);

function listed(access: AccessConfig, principal: Principal): boolean {
  // An unverified passthrough caller is nobody in particular: only an explicit "anonymous" entry admits it.
  if (principal.issuer === UNVERIFIED_ISSUER) return access.users.includes('anonymous');
  const token = apiTokenName(principal);
  if (token !== undefined) return access.apiTokens.includes('*') || access.apiTokens.includes(token);
  // User ids only, never e-mail claims: any identity provider can claim any address.
  if (access.users.includes('*') || access.users.includes(principal.subject)) return true;
  return principal.groups.some((group) => access.groups.includes(group));
}

/**
 * Who may run what, deny by default: a caller runs a tool on an MCP server only when the server's access
 * list (configuration file plus run-time grants) names them — by user, group or API token — the server
 * exposes the tool, and the tool's own list (if it has one) names them too. Roles never grant execution.
 */
export class AccessPolicy {
  readonly #config: BatonConfig;
  readonly #grants: AccessGrants;

  constructor(config: BatonConfig, grants: AccessGrants) {
    this.#config = config;
    this.#grants = grants;
  }

  servers(): string[] {
    return Object.keys(this.#config.servers);
  }

  server(name: string): ServerConfig | undefined {
    return this.#config.servers[name];
  }

  /** The server's access list as it stands now: the file's entries and the run-time grants. */
  accessList(server: string): AccessConfig {
    return this.#merged(this.#config.servers[server]?.access, server) ?? { users: [], groups: [], apiTokens: [] };
  }

  /**
   * A tool's own list (file plus run-time grants, kept under `tool:<name>`), or undefined when it has
   * none: then the server's list alone decides.
   */
  toolAccessList(tool: string): AccessConfig | undefined {
    return this.#merged(this.#config.tools[tool]?.access, `tool:${tool}`);
  }

  #merged(declared: AccessConfig | undefined, grantsKey: string): AccessConfig | undefined {
    const granted = this.#grants.forList(grantsKey);
    if (!declared && granted.length === 0) return undefined;
    const values = (kind: string) => granted.filter((grant) => grant.kind === kind).map((grant) => grant.value);
    return {
      users: [...(declared?.users ?? []), ...values('user')],
      groups: [...(declared?.groups ?? []), ...values('group')],
      apiTokens: [...(declared?.apiTokens ?? []), ...values('api_token')],
    };
  }

  mayUseServer(principal: Principal, server: string): boolean {
    return this.#config.servers[server] !== undefined && listed(this.accessList(server), principal);
  }

  exposes(server: string, tool: string): boolean {
    const tools = this.#config.servers[server]?.tools;
    return tools === '*' || (tools?.includes(tool) ?? false);
  }

  mayRun(principal: Principal, server: string, tool: string): boolean {
    if (!this.exposes(server, tool) || !this.mayUseServer(principal, server)) return false;
    const own = this.toolAccessList(tool);
    return own === undefined || listed(own, principal);
  }

  /** Roles are keyed by user id alone (so a browser session's user has the same role as their tokens). */
  roleOf(principal: Pick<Principal, 'subject'>): Role | undefined {
    return this.#config.roles[principal.subject];
  }
}
