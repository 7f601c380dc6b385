import { Client, ProtocolError, SdkHttpError, StreamableHTTPClientTransport, UnauthorizedError, type CallToolResult, type Tool } from '@modelcontextprotocol/client';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { UpstreamMcpServer } from '../../apps/types.ts';
import type { McpInputRequired, UpstreamAnswer } from '../../activities/contract.ts';
import { UpstreamError } from './errors.ts';

/** What authenticates a call to an upstream: headers, and query parameters for an API key that travels in the URL. */
export interface UpstreamCredential {
  headers: Record<string, string>;
  query?: Record<string, string>;
}

/** One upstream and the credential of this call (the caller's own, or the organisation's). */
export interface UpstreamTarget extends UpstreamCredential {
  id: string;
  upstream: UpstreamMcpServer;
}

interface Session {
  client: Promise<Client>;
  lastUsed: number;
}

/** The JSON-RPC error MCP uses for "the user must complete a URL elicitation first" (2025-11-25). */
const URL_ELICITATION_REQUIRED = -32042;
const SESSION_IDLE_MS = 5 * 60_000;
const MAX_SESSIONS = 256;

/** Set for one upstream request: how much of the answer may arrive, and whether more did. */
const answerBudget = new AsyncLocalStorage<{ limit: number; exceeded: boolean }>();

/**
 * Baton's MCP client side for upstream servers (the official client SDK over Streamable HTTP). An
 * initialised session is reused per (upstream, credential) so a call costs one request, not three; the
 * key is a digest of the credential, so one user's session never carries another's token. Failures come
 * out as UpstreamError with a code saying what happened; answers larger than the upstream's limit are cut
 * off while they arrive.
 */
export class UpstreamClients {
  readonly #sessions = new Map<string, Session>();
  readonly #toolListeners = new Set<(id: string) => void>();
  readonly #sweep: NodeJS.Timeout;

  constructor() {
    this.#sweep = setInterval(() => void this.#closeIdle(), 60_000).unref();
  }

  /** Called with an upstream's id when it announces that its tool list changed (notifications/tools/list_changed). */
  onToolsChanged(listener: (id: string) => void): void {
    this.#toolListeners.add(listener);
  }

  /** Every tool the upstream lists (all pages). */
  async listTools(target: UpstreamTarget): Promise<Tool[]> {
    return this.#withSession(target, async (client) => {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {}, { timeout: target.upstream.timeoutMs });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    });
  }

  /**
   * One tools/call. An upstream that answers `input_required` (2026-07-28) with URL elicitations is asking the
   * user to authorise it: `auth_required`, Baton's consent pause. Form elicitations are questions for the
   * user: handed back as they are, to be asked and the call retried with `answer`. Anything else it asks
   * for (sampling, roots) Baton cannot provide: `input_required`, said clearly.
   */
  async callTool(target: UpstreamTarget, tool: string, args: Record<string, unknown>, options: { signal?: AbortSignal; answer?: UpstreamAnswer } = {}): Promise<CallToolResult | McpInputRequired> {
    return this.#withSession(target, async (client) => {
      const params = { name: tool, arguments: args, ...(options.answer ? { inputResponses: options.answer.inputResponses, requestState: options.answer.requestState } : {}) };
      const result = (await client.callTool(params, { timeout: target.upstream.timeoutMs, signal: options.signal, allowInputRequired: true })) as CallToolResult & {
        resultType?: string;
        inputRequests?: Record<string, { method?: string; params?: { mode?: string; message?: string; requestedSchema?: Record<string, unknown> } }>;
        requestState?: string;
      };
      if (result.resultType !== 'input_required') return result;
      const requests = Object.entries(result.inputRequests ?? {});
      const isUrl = ([, request]: (typeof requests)[number]) => request.method === 'elicitation/create' && request.params?.mode === 'url';
      const isForm = ([, request]: (typeof requests)[number]) => request.method === 'elicitation/create' && request.params?.mode !== 'url' && request.params?.requestedSchema !== undefined;
      if (requests.some(isUrl)) {
        throw new UpstreamError(
          'auth_required',
          `${target.id} asks the user to authorise it first (${requests
            .filter(isUrl)
            .map(([, request]) => request.params?.message ?? 'a link')
            .join('; ')}).`,
        );
      }
      if (requests.length === 0 || !requests.every(isForm)) {
        const asked = requests.map(([key, request]) => `${key}: ${request.method ?? 'an unknown request'}`).join('; ') || 'nothing but its own state';
        throw new UpstreamError('input_required', `${target.id} asked for input Baton cannot provide (${asked}); only questions for the user (form elicitations) are passed on.`);
      }
      const questions = Object.fromEntries(requests.map(([key, request]) => [key, { message: request.params?.message ?? '', requestedSchema: request.params!.requestedSchema! }]));
      return { inputRequired: { questions, ...(result.requestState !== undefined ? { requestState: result.requestState } : {}) } };
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((session) => session.client.then((client) => client.close()).catch(() => undefined)));
  }

  /** Runs `work` on a reused session; a session that failed is dropped and the work tried once on a fresh one. */
  async #withSession<T>(target: UpstreamTarget, work: (client: Client) => Promise<T>): Promise<T> {
    const key = sessionKey(target);
    for (let attempt = 0; ; attempt++) {
      const reused = this.#sessions.has(key);
      const session = this.#session(key, target);
      const budget = { limit: target.upstream.maxResultBytes, exceeded: false };
      try {
        return await answerBudget.run(budget, async () => work(await session.client));
      } catch (error) {
        this.#drop(key, session);
        const failure = describe(target, error, budget.exceeded);
        // A reused session the upstream has forgotten (restart, expiry) is not the call's fault: once more, fresh.
        if (reused && attempt === 0 && failure.code !== 'result_too_large' && failure.code !== 'timeout') continue;
        throw failure;
      }
    }
  }

  #session(key: string, target: UpstreamTarget): Session {
    let session = this.#sessions.get(key);
    if (!session) {
      if (this.#sessions.size >= MAX_SESSIONS) void this.#closeOldest();
      session = { client: connect(target, () => this.#toolListeners.forEach((listener) => listener(target.id))), lastUsed: Date.now() };
      this.#sessions.set(key, session);
    }
    session.lastUsed = Date.now();
    return session;
  }

  #drop(key: string, session: Session): void {
    if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    void session.client.then((client) => client.close()).catch(() => undefined);
  }

  async #closeIdle(): Promise<void> {
    const now = Date.now();
    for (const [key, session] of this.#sessions) if (now - session.lastUsed > SESSION_IDLE_MS) this.#drop(key, session);
  }

  async #closeOldest(): Promise<void> {
    const oldest = [...this.#sessions].sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
    if (oldest) this.#drop(oldest[0], oldest[1]);
  }
}

async function connect(target: UpstreamTarget, toolsChanged: () => void): Promise<Client> {
  // The SDK listens for the upstream's tools/list_changed (the session's stream in the 2025 era, a subscription in 2026-07-28).
  // `auto`: 2026-07-28 where the upstream offers it (server/discover), else the 2025 initialize handshake.
  const client = new Client(
    { name: 'baton', version: '1' },
    {
      versionNegotiation: { mode: target.upstream.protocol },
      listChanged: { tools: { autoRefresh: false, onChanged: () => toolsChanged() } },
      // Questions for the user come back to Baton (manual input_required) to be asked through the user's own client.
      capabilities: { elicitation: { form: {} } },
      inputRequired: { autoFulfill: false },
    },
  );
  // A 2025-era upstream would ask by a request on the session, which Baton cannot route to a user.
  client.setRequestHandler('elicitation/create', () => {
    throw new ProtocolError(-32601, 'Baton passes questions for the user on only as 2026-07-28 input_required results.');
  });
  // The credential's query parameters join the URL here only: messages and logs name the configured URL.
  const url = new URL(target.upstream.url);
  for (const [name, value] of Object.entries(target.query ?? {})) url.searchParams.set(name, value);
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: target.headers }, fetch: budgetedFetch });
  await client.connect(transport, { timeout: target.upstream.timeoutMs });
  return client;
}

/** fetch that stops reading an answer once it exceeds the current request's budget (answerBudget). */
const budgetedFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const budget = answerBudget.getStore();
  if (!budget || !response.body) return response;
  let received = 0;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength;
        if (received > budget.limit) {
          budget.exceeded = true;
          controller.error(new Error('answer too large'));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
};

/** A session per upstream and credential: the digest covers every header and query parameter, so no two credentials share one. */
function sessionKey(target: UpstreamTarget): string {
  const sorted = (values: Record<string, string>, fold: (name: string) => string) =>
    Object.entries(values)
      .map(([name, value]) => [fold(name), value])
      .sort(([a], [b]) => a!.localeCompare(b!));
  const credential = JSON.stringify([sorted(target.headers, (name) => name.toLowerCase()), sorted(target.query ?? {}, (name) => name)]);
  return `${target.id}\0${createHash('sha256').update(credential).digest('base64url')}`;
}

function describe(target: UpstreamTarget, error: unknown, tooLarge: boolean): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const name = target.id;
  if (tooLarge) return new UpstreamError('result_too_large', `${name}'s answer is larger than ${target.upstream.maxResultBytes} bytes (mcpServers.${name}.maxResultBytes); nothing was passed on.`);
  if (error instanceof UnauthorizedError || (error instanceof SdkHttpError && (error.status === 401 || error.status === 403))) {
    return new UpstreamError('auth_required', `${name} refused the credential (HTTP ${error instanceof SdkHttpError ? error.status : 401}).`, { cause: error });
  }
  if (error instanceof ProtocolError && error.code === URL_ELICITATION_REQUIRED) {
    return new UpstreamError('auth_required', `${name} asks the user to authorise it first.`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/timed? ?out|timeout/i.test(message) || (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))) {
    return new UpstreamError('timeout', `${name} did not answer within ${target.upstream.timeoutMs / 1000} s.`, { retryable: true, cause: error });
  }
  if (error instanceof ProtocolError) {
    if (error.code === -32602 && /tool/i.test(message)) return new UpstreamError('unknown_tool', `${name}: ${message}`, { cause: error });
    return new UpstreamError('malformed_answer', `${name} answered with an error: ${message}`, { cause: error });
  }
  if (error instanceof SdkHttpError) return new UpstreamError('malformed_answer', `${name} answered HTTP ${error.status}.`, { retryable: error.status >= 500, cause: error });
  if (error instanceof SyntaxError || /JSON|parse|invalid.*message|expected/i.test(message)) {
    return new UpstreamError('malformed_answer', `${name} answered something that is not MCP (JSON-RPC): ${message}`, { cause: error });
  }
  return new UpstreamError('unreachable', `Could not reach ${name} at ${target.upstream.url}: ${message}`, { retryable: true, cause: error });
}
