import type { AccessConfig, BatonConfig, RoleName, ServerConfig } from '../../core/config/file/schema.ts';
import { UNVERIFIED_ISSUER } from '../../core/identity/context.ts';
import type { Principal } from '../auth/principal.ts';
import type { AccessGrant, AccessGrants } from '../../core/access/access-grants.ts';
import { parseUpstreamToolName, UPSTREAM_SEPARATOR } from '../../core/upstreams/tool-names.ts';

export type Role = RoleName;

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

/** A list declared in the file (if any) with the run-time grants added; undefined when there is neither. */
function merged(declared: AccessConfig | undefined, granted: readonly AccessGrant[]): AccessConfig | undefined {
  if (!declared && granted.length === 0) return undefined;
  const values = (kind: string) => granted.filter((grant) => grant.kind === kind).map((grant) => grant.value);
  return {
    users: [...(declared?.users ?? []), ...values('user')],
    groups: [...(declared?.groups ?? []), ...values('group')],
    apiTokens: [...(declared?.apiTokens ?? []), ...values('api_token')],
  };
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
  async accessList(server: string): Promise<AccessConfig> {
    return this.#serverList(server, await this.#grants.forList(server));
  }

  /**
   * A tool's own list (file plus run-time grants, kept under `tool:<name>`), or undefined when it has
   * none: then the server's list alone decides.
   */
  async toolAccessList(tool: string): Promise<AccessConfig | undefined> {
    return this.#toolList(tool, await this.#grants.forList(`tool:${tool}`));
  }

  #serverList(server: string, granted: readonly AccessGrant[]): AccessConfig {
    return merged(this.#config.servers[server]?.access, granted) ?? { users: [], groups: [], apiTokens: [] };
  }

  #toolList(tool: string, granted: readonly AccessGrant[]): AccessConfig | undefined {
    return merged(this.#config.tools[tool]?.access, granted);
  }

  async mayUseServer(principal: Principal, server: string): Promise<boolean> {
    return this.#config.servers[server] !== undefined && listed(await this.accessList(server), principal);
  }

  /** Whether the server's `tools` names the tool: "*", its exact name, or `<upstream>__*` for an upstream MCP server's tools. */
  exposes(server: string, tool: string): boolean {
    const tools = this.#config.servers[server]?.tools;
    if (tools === '*') return true;
    const upstream = parseUpstreamToolName(tool);
    return tools?.some((entry) => entry === tool || (upstream !== undefined && entry === `${upstream.server}${UPSTREAM_SEPARATOR}*`)) ?? false;
  }

  async mayRun(principal: Principal, server: string, tool: string): Promise<boolean> {
    const [allowed] = await this.mayRunEach(principal, server, [tool]);
    return allowed === true;
  }

  /**
   * For each of `tools`, whether the caller may run it on `server`, in order. The run-time grants of the
   * server's list and of every tool's are read at once, so a tools listing costs one query.
   */
  async mayRunEach(principal: Principal, server: string, tools: readonly string[]): Promise<boolean[]> {
    const exposed = tools.filter((tool) => this.exposes(server, tool));
    if (this.#config.servers[server] === undefined || exposed.length === 0) return tools.map(() => false);
    const grants = await this.#grants.forLists([server, ...exposed.map((tool) => `tool:${tool}`)]);
    const grantsOf = (list: string) => grants.filter((grant) => grant.server === list);
    if (!listed(this.#serverList(server, grantsOf(server)), principal)) return tools.map(() => false);
    return tools.map((tool) => {
      if (!this.exposes(server, tool)) return false;
      const own = this.#toolList(tool, grantsOf(`tool:${tool}`));
      return own === undefined || listed(own, principal);
    });
  }

  /**
   * Roles are keyed by user id (a secondary provider's users by `<issuer>#<subject>`, their subject here), so a
   * browser session's user has the same role as their tokens; an entry naming a `tenant` holds only there.
   */
  roleOf(principal: Pick<Principal, 'subject' | 'tenant'>): Role | undefined {
    return this.#roleEntry(principal)?.role;
  }

  /** Whether the user's role reaches beyond their own tenant (`{ role, global: true }`); roles are per tenant otherwise. */
  isGlobal(principal: Pick<Principal, 'subject' | 'tenant'>): boolean {
    return this.#roleEntry(principal)?.global ?? false;
  }

  #roleEntry({ subject, tenant }: Pick<Principal, 'subject' | 'tenant'>): { role: Role; global: boolean } | undefined {
    const entry = Object.hasOwn(this.#config.roles, subject) ? this.#config.roles[subject] : undefined;
    if (entry === undefined) return undefined;
    if (typeof entry !== 'object') return { role: entry, global: false };
    return entry.tenant === undefined || entry.tenant === tenant ? entry : undefined;
  }
}
