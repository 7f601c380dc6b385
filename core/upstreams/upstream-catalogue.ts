import type { Tool } from '@modelcontextprotocol/client';
import type { UpstreamMcpServer } from '../../apps/types.ts';
import { UpstreamError } from './errors.ts';
import type { UpstreamClients, UpstreamCredential } from './upstream-client.ts';

/** The credential to fetch a list with, asked for only when a fetch is needed (resolving one may read the vault). */
export type CredentialSource = () => Promise<UpstreamCredential | undefined>;

/** What an admin sees of one upstream: can Baton reach it, how many tools it has cached, and the last problem. */
export interface UpstreamStatus {
  id: string;
  url: string;
  reachable: boolean | null;
  toolsCached: number;
  fetchedAt: number | null;
  lastError: string | null;
}

interface CachedList {
  tools: Tool[];
  fetchedAt: number;
  /** The upstream said its list changed (or an admin asked): fetch again at the next chance, serve this meanwhile. */
  stale: boolean;
}

/**
 * The tools of each upstream MCP server, as Baton exposes them: fetched with whatever credential the
 * caller of `toolsOf` can present (the organisation's, else a user's own), kept for the upstream's
 * `toolsCacheSeconds` and shared by every caller (an upstream is assumed to list the same tools for
 * everyone; it still refuses, per user, what a user may not call), filtered by the configured `tools`.
 * A failed fetch keeps serving the last list it had, and says why in the status.
 */
export class UpstreamCatalogue {
  readonly #clients: UpstreamClients;
  readonly #lists = new Map<string, CachedList>();
  readonly #fetching = new Map<string, Promise<Tool[]>>();
  readonly #errors = new Map<string, string>();
  readonly #now: () => number;

  constructor(clients: UpstreamClients, now: () => number = Date.now) {
    this.#clients = clients;
    this.#now = now;
    clients.onToolsChanged((id) => this.invalidate(id));
  }

  /** The cached list when fresh; else fetched with the credential `credential` gives (when it gives one), else the stale one (or undefined). */
  async toolsOf(id: string, upstream: UpstreamMcpServer, credential: CredentialSource): Promise<Tool[] | undefined> {
    const cached = this.#lists.get(id);
    if (cached && !cached.stale && this.#now() - cached.fetchedAt < upstream.toolsCacheMs) return cached.tools;
    const resolved = await credential();
    if (!resolved) return cached?.tools;
    try {
      return await this.#fetch(id, upstream, resolved);
    } catch (error) {
      if (cached) return cached.tools;
      throw error;
    }
  }

  /** One upstream tool (by its own name) when exposed and known, for a call's schema check. */
  async tool(id: string, upstream: UpstreamMcpServer, name: string, credential: UpstreamCredential): Promise<Tool | undefined> {
    const find = (tools: Tool[] | undefined) => tools?.find((tool) => tool.name === name);
    const source = () => Promise.resolve(credential);
    const known = find(await this.toolsOf(id, upstream, source));
    if (known) return known;
    // Not in the list Baton holds: the upstream may have added it since; look once more before refusing.
    this.invalidate(id);
    return find(await this.toolsOf(id, upstream, source));
  }

  /** Notes why the upstream's list could not be fetched, for its status (e.g. its credential is unavailable). */
  recordError(id: string, message: string): void {
    this.#errors.set(id, message);
  }

  /** Forgets an upstream's list (its `notifications/tools/list_changed`, an admin's refresh). */
  invalidate(id: string): void {
    const cached = this.#lists.get(id);
    if (cached) this.#lists.set(id, { ...cached, stale: true });
  }

  status(id: string, upstream: UpstreamMcpServer): UpstreamStatus {
    const cached = this.#lists.get(id);
    const lastError = this.#errors.get(id) ?? null;
    return { id, url: upstream.url, reachable: lastError ? false : cached ? true : null, toolsCached: cached?.tools.length ?? 0, fetchedAt: cached?.fetchedAt ?? null, lastError };
  }

  async #fetch(id: string, upstream: UpstreamMcpServer, credential: UpstreamCredential): Promise<Tool[]> {
    let fetching = this.#fetching.get(id);
    if (!fetching) {
      fetching = this.#clients
        .listTools({ id, upstream, ...credential })
        .then((tools) => {
          const exposed = upstream.tools === '*' ? tools : tools.filter((tool) => upstream.tools.includes(tool.name));
          this.#lists.set(id, { tools: exposed, fetchedAt: this.#now(), stale: false });
          this.#errors.delete(id);
          return exposed;
        })
        .catch((error: unknown) => {
          this.#errors.set(id, error instanceof UpstreamError ? error.message : String(error));
          throw error;
        })
        .finally(() => this.#fetching.delete(id));
      this.#fetching.set(id, fetching);
    }
    return fetching;
  }
}
