import type { Tool } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Caller } from '../../activities/caller-context.ts';
import { isOrganisationMode, organisationCredential } from '../../activities/configured-credentials.ts';
import { resolveCredential, type CredentialSources } from '../../activities/credentials.ts';
import { extraHeaders } from '../../activities/extra-headers.ts';
import type { AppSettings, BatonSettings } from '../../core/config/settings.ts';
import type { CredentialConfig } from '../../core/config/file/schema.ts';
import { parseUpstreamToolName, upstreamToolName } from '../../core/upstreams/tool-names.ts';
import { UpstreamOAuthClient } from '../../core/upstreams/upstream-oauth-client.ts';
import type { UpstreamCatalogue, UpstreamStatus } from '../../core/upstreams/upstream-catalogue.ts';
import type { UpstreamCredential } from '../../core/upstreams/upstream-client.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import type { Principal } from '../auth/principal.ts';
import { identityOf } from '../mcp/tool-runner.ts';

/** An upstream MCP server's tool as Baton serves it: runnable like Baton's own tools, described as the upstream describes it. */
export interface UpstreamToolDefinition extends CallableDefinition {
  upstream: { server: string; tool: Tool };
}

export const isUpstreamTool = (tool: CallableDefinition): tool is UpstreamToolDefinition => 'upstream' in tool;

export interface UpstreamToolsDependencies {
  settings: BatonSettings;
  catalogue: UpstreamCatalogue;
  credentials: CredentialSources;
  /** Names of Baton's own tools, which upstream tool names must never shadow. */
  ownTools: readonly string[];
  log: Logger;
  /** Counts an upstream left out of a tools/list (down, refusing, malformed). */
  onListFailure?: (server: string) => void;
}

/**
 * The tools of every upstream MCP server, for one caller: each upstream's list is fetched with a
 * credential that caller (or the organisation) holds, cached, and shared (UpstreamCatalogue). An upstream
 * that is down or refuses is left out of the list (a log line and a metric), never breaking the rest.
 */
export class UpstreamTools {
  readonly #deps: UpstreamToolsDependencies;
  readonly #upstreams: AppSettings[];

  constructor(deps: UpstreamToolsDependencies) {
    this.#deps = deps;
    this.#upstreams = [...deps.settings.apps.values()].filter((app) => app.connector.upstream);
    for (const tool of deps.ownTools) {
      const parsed = parseUpstreamToolName(tool);
      if (parsed && this.#upstreams.some((app) => app.id === parsed.server)) {
        throw new Error(
          `The tool "${tool}" clashes with the MCP server "${parsed.server}" (mcpServers.${parsed.server}): its tools are named "${parsed.server}__<tool>". Rename the tool or the server.`,
        );
      }
    }
  }

  get configured(): boolean {
    return this.#upstreams.length > 0;
  }

  async list(principal: Principal): Promise<UpstreamToolDefinition[]> {
    const lists = await Promise.all(this.#upstreams.map((app) => this.#toolsOf(app, principal)));
    return lists.flat();
  }

  async find(name: string, principal: Principal): Promise<UpstreamToolDefinition | undefined> {
    const parsed = parseUpstreamToolName(name);
    const app = parsed && this.#upstreams.find((candidate) => candidate.id === parsed.server);
    if (!app) return undefined;
    return (await this.#toolsOf(app, principal)).find((tool) => tool.name === name);
  }

  statuses(): UpstreamStatus[] {
    return this.#upstreams.map((app) => this.#deps.catalogue.status(app.id, app.connector.upstream!));
  }

  async #toolsOf(app: AppSettings, principal: Principal): Promise<UpstreamToolDefinition[]> {
    const upstream = app.connector.upstream!;
    try {
      // The credential is resolved only when the cached list must be fetched again: listing and calling read no vault row otherwise.
      const tools = await this.#deps.catalogue.toolsOf(app.id, upstream, () => this.#listingCredential(app, principal));
      return (tools ?? []).map((tool) => definitionOf(app, tool));
    } catch (error) {
      this.#deps.log.warn({ upstream: app.id, err: (error as Error).message }, 'upstream MCP server left out of tools/list');
      this.#deps.onListFailure?.(app.id);
      return [];
    }
  }

  /**
   * The credential to list an upstream's tools with, as this caller: the organisation's, or the caller's
   * own connection. Undefined when the caller has none usable (not connected yet): the list another caller
   * fetched is served from the cache.
   */
  async #listingCredential(app: AppSettings, principal: Principal): Promise<UpstreamCredential | undefined> {
    const caller: Caller = { identity: identityOf(principal), binding: { rootWorkflowId: '', tool: '' }, runPath: [] };
    const { toolsCredential } = app.connector.upstream!;
    try {
      const credential =
        toolsCredential && isOrganisationMode(toolsCredential)
          ? await organisationCredential(app.connector, app, await this.#withDiscoveredTokenUrl(app, toolsCredential), this.#deps.credentials)
          : await resolveCredential(caller, app.connector, app, this.#deps.credentials);
      return { headers: { ...(await extraHeaders(caller, app.connector, app, this.#deps.credentials)), ...credential.headers }, query: credential.query };
    } catch (error) {
      // The organisation's credential failing is a configuration problem worth saying; a user not connected is not.
      if (toolsCredential || isOrganisationMode(app.credential)) {
        const message = `cannot list ${app.id}'s tools: ${(error as Error).message}`;
        this.#deps.log.warn({ upstream: app.id }, message);
        this.#deps.catalogue.recordError(app.id, message);
      }
      return undefined;
    }
  }

  /** A client-credentials listing credential without a token URL uses the upstream's discovered token endpoint. */
  async #withDiscoveredTokenUrl<Credential extends CredentialConfig>(app: AppSettings, credential: Credential): Promise<Credential> {
    if (credential.mode !== 'client_credentials' || credential.tokenUrl) return credential;
    const client = this.#deps.credentials.oauthClients.get(app.id);
    return client instanceof UpstreamOAuthClient ? { ...credential, tokenUrl: await client.tokenEndpoint() } : credential;
  }
}

/** Built once per tool definition the catalogue holds (converting its schema is not free). */
const definitions = new WeakMap<Tool, UpstreamToolDefinition>();

function definitionOf(app: AppSettings, tool: Tool): UpstreamToolDefinition {
  const known = definitions.get(tool);
  if (known) return known;
  const definition = buildDefinition(app, tool);
  definitions.set(tool, definition);
  return definition;
}

function buildDefinition(app: AppSettings, tool: Tool): UpstreamToolDefinition {
  const name = upstreamToolName(app.id, tool.name);
  return {
    kind: 'tool',
    name,
    title: tool.title,
    description: tool.description ?? `${tool.name} of ${app.connector.displayName}`,
    annotations: tool.annotations,
    input: inputSchemaOf(tool),
    apps: [],
    mcpServers: [app.id],
    uses: [],
    body: () => Promise.reject(new Error(`${name} runs in the worker, as a workflow`)),
    upstream: { server: app.id, tool },
  };
}

/** The upstream's JSON schema as zod, for the gateway's check before a run starts (the worker checks again with ajv). */
function inputSchemaOf(tool: Tool): z.ZodType {
  try {
    return z.fromJSONSchema(tool.inputSchema as never);
  } catch {
    return z.record(z.string(), z.unknown());
  }
}
