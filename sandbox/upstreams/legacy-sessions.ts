import { WebStandardStreamableHTTPServerTransport, type AuthInfo, type McpServer } from '@modelcontextprotocol/server';
import { randomUUID } from 'node:crypto';
import { jsonRpcError } from './json-rpc.ts';

interface Session<T> {
  transport: WebStandardStreamableHTTPServerTransport;
  instance: T;
  /** The user who opened it: only their tokens may use it. */
  owner: string;
  /** GET streams opened (where notifications go): a test waits for one before changing the tool list. */
  notificationStreams: number;
}

/**
 * 2025-era Streamable HTTP with sessions (`Mcp-Session-Id`), as most MCP servers deployed today serve it:
 * `initialize` opens a session with a server instance of its own, later requests name it, `GET` opens
 * the stream on which the server sends notifications such as tools/list_changed, `DELETE` ends it. The
 * SDK's own 2025 fallback is stateless; this keeps sessions so the sandbox can also test what only a
 * session has (server-sent notifications, a session outliving one access token).
 *
 * A session belongs to the user who opened it: a request with another user's token is answered as if
 * the session did not exist (404), as a server that keys sessions by principal would.
 */
export class LegacySessions<T extends { server: McpServer }> {
  #sessions = new Map<string, Session<T>>();
  #create: () => T;

  constructor(create: () => T) {
    this.#create = create;
  }

  async fetch(request: Request, authInfo: AuthInfo, owner: string): Promise<Response> {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = this.#sessions.get(sessionId);
      if (!session || session.owner !== owner) return sessionNotFound();
      const response = await session.transport.handleRequest(request, { authInfo });
      // By now the transport has attached the stream, so a notification sent from here on reaches it.
      if (request.method === 'GET' && response.ok) session.notificationStreams += 1;
      return response;
    }
    const instance = this.#create();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.#sessions.set(id, { transport, instance, owner, notificationStreams: 0 });
      },
      onsessionclosed: (id) => {
        this.#sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.#sessions.delete(transport.sessionId);
    };
    await instance.server.connect(transport);
    const response = await transport.handleRequest(request, { authInfo });
    // Anything but an initialize without a session is refused by the transport, and nothing is kept.
    if (transport.sessionId === undefined) await instance.server.close();
    return response;
  }

  /** The open sessions, whose they are, and whether they listen for notifications. */
  describe(): { id: string; owner: string; notificationStreams: number }[] {
    return [...this.#sessions].map(([id, { owner, notificationStreams }]) => ({ id, owner, notificationStreams }));
  }

  /** The instances of the open sessions. */
  instances(): T[] {
    return [...this.#sessions.values()].map((session) => session.instance);
  }

  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((session) => session.instance.server.close()));
  }
}

/** What the SDK's own session handling answers for an unknown session. */
function sessionNotFound(): Response {
  return jsonRpcError(404, -32001, 'Session not found');
}
