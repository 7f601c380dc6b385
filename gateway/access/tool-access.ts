import { UNVERIFIED_ISSUER } from '../../core/identity/context.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import type { Principal } from '../auth/principal.ts';
import type { ToolRunner } from '../mcp/tool-runner.ts';
import type { UpstreamTools } from '../upstreams/upstream-tools.ts';
import type { AccessPolicy } from './access-policy.ts';

export type ToolRefusal = 'unknown_tool' | 'not_on_access_list' | 'no_personal_connections';

export type ToolDecision = { allowed: true; tool: CallableDefinition } | { allowed: false; refusal: ToolRefusal; message: string; tool: CallableDefinition | undefined };

export interface ToolAccessDependencies {
  policy: AccessPolicy;
  runner: Pick<ToolRunner, 'mayRun' | 'userApps'>;
  tools: readonly CallableDefinition[];
  /** The upstream MCP servers' tools, listed per caller (absent: Baton's own tools only). */
  upstreams?: UpstreamTools;
}

/**
 * Who may run which tool, whatever the trigger (MCP, the HTTP API, a schedule): deny by default — the
 * server's and the tool's access lists must name the caller (AccessPolicy), and a caller without
 * personal connections (API token, unverified passthrough caller) gets only tools that need none
 * (ToolRunner.mayRun). One place decides, so every trigger refuses the same calls with the same words.
 */
export class ToolAccess {
  readonly #deps: ToolAccessDependencies;
  readonly #byName: Map<string, CallableDefinition>;

  constructor(deps: ToolAccessDependencies) {
    this.#deps = deps;
    this.#byName = new Map(deps.tools.map((tool) => [tool.name, tool]));
  }

  /** Tools (not callables) the access lists let this caller run on `server`. */
  async permitted(principal: Principal, server: string): Promise<CallableDefinition[]> {
    const upstream = this.#deps.upstreams ? await this.#deps.upstreams.list(principal) : [];
    const tools = [...this.#deps.tools.filter((tool) => tool.kind === 'tool'), ...upstream];
    const allowed = await this.#deps.policy.mayRunEach(
      principal,
      server,
      tools.map((tool) => tool.name),
    );
    return tools.filter((_, index) => allowed[index]);
  }

  /** The tools the caller may actually run there: permitted, and needing no connection the caller cannot have. */
  async runnable(principal: Principal, server: string): Promise<CallableDefinition[]> {
    return (await this.permitted(principal, server)).filter((tool) => this.#deps.runner.mayRun(principal, tool));
  }

  /** Whether the caller may run `name` on `server`, and if not, a clear reason (no workflow starts). */
  /** A tool by name: Baton's own, or an upstream MCP server's (as this caller can see it). */
  async find(principal: Principal, name: string): Promise<CallableDefinition | undefined> {
    return this.#byName.get(name) ?? (await this.#deps.upstreams?.find(name, principal));
  }

  async decide(principal: Principal, server: string, name: string): Promise<ToolDecision> {
    const known = await this.find(principal, name);
    if (known?.kind !== 'tool' || !this.#deps.policy.exposes(server, name)) {
      return { allowed: false, refusal: 'unknown_tool', message: `Unknown tool "${name}".`, tool: undefined };
    }
    if (!(await this.#deps.policy.mayRun(principal, server, name))) {
      const who = principal.authMethod === 'api_token' ? `api_token ${principal.subject.replace(/^api-token:/, '')}` : `user ${principal.subject}`;
      return {
        allowed: false,
        refusal: 'not_on_access_list',
        message: `You are not on the access list for "${name}" on the MCP server "${server}". Ask an admin to add you (baton access add ${server} ${who}).`,
        tool: known,
      };
    }
    if (!this.#deps.runner.mayRun(principal, known)) {
      const who = principal.issuer === UNVERIFIED_ISSUER ? 'Unverified callers of a passthrough server' : 'API-token callers';
      const apps = this.#deps.runner.userApps(known);
      const acts = apps.length ? `each caller's own ${apps.join(' and ')} connection` : "the caller's own sign-in token";
      return {
        allowed: false,
        refusal: 'no_personal_connections',
        message: `${who} have no personal connections; use OAuth sign-in or a service-account tool. ("${name}" acts with ${acts}.)`,
        tool: known,
      };
    }
    return { allowed: true, tool: known };
  }
}
