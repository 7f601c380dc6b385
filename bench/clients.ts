import type { Client } from '@modelcontextprotocol/client';
import type { DemoUserName, GatewayStack } from '../test/support/gateway-stack.ts';

/** What the bench's "user" does with a consent link the gateway asks the client to open. */
export type ConsentHandler = (url: string, user: DemoUserName) => Promise<void>;

export const demoArguments = { repo: 'acme/widgets', number: 1 } as const;

/**
 * The demo arguments with `acme/widgets` spelt in the `variant`-th mix of upper and lower case: the
 * same pull request (GitHub, and the sandbox, match owner and repository case-insensitively) but
 * different arguments. The gateway re-attaches a call to the same user's undelivered run with equal
 * arguments, so concurrent identical calls would share runs instead of each starting its own.
 */
export function distinctDemoArguments(variant: number): { repo: string; number: number } {
  const letters = [...demoArguments.repo];
  const positions = letters.flatMap((char, index) => (/[a-z]/.test(char) ? [index] : []));
  if (variant >= 2 ** positions.length) throw new Error(`only ${2 ** positions.length} spellings of ${demoArguments.repo}`);
  positions.forEach((position, bit) => {
    if (variant & (1 << bit)) letters[position] = letters[position]!.toUpperCase();
  });
  return { repo: letters.join(''), number: demoArguments.number };
}

/** One bearer token per user for the whole bench: tokens live an hour, and signing in is not what is measured. */
export class BenchClients {
  readonly #gs: GatewayStack;
  readonly #tokens = new Map<DemoUserName, Promise<string>>();

  constructor(gs: GatewayStack) {
    this.#gs = gs;
  }

  token(user: DemoUserName): Promise<string> {
    let token = this.#tokens.get(user);
    if (!token) {
      token = this.#gs.tokenFor(user);
      this.#tokens.set(user, token);
    }
    return token;
  }

  /**
   * A 2026-07-28 MCP client over Streamable HTTP that can open URL elicitations, as in
   * test/mcp-modern-era.test.ts. By default the user completes consent in the "browser" and accepts.
   */
  async connect(user: DemoUserName, onConsent: ConsentHandler = (url) => this.#gs.consentInBrowser(url, user).then(() => undefined)): Promise<Client> {
    const client = await this.#gs.connect(await this.token(user), {
      versionNegotiation: { mode: { pin: '2026-07-28' } },
      capabilities: { elicitation: { url: {} } },
    });
    client.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { mode?: string; url?: string };
      if (params.mode !== 'url' || !params.url) throw new Error(`unexpected elicitation: ${JSON.stringify(params)}`);
      await onConsent(params.url, user);
      return { action: 'accept' };
    });
    return client;
  }
}

/** Calls a tool and fails loudly on anything but a completed result, so a broken path never looks fast. */
export async function callOk(client: Client, tool: string, args: Record<string, unknown> = demoArguments): Promise<{ result: Record<string, unknown>; runId: string | undefined }> {
  const result = await client.callTool({ name: tool, arguments: args });
  if (result.isError) throw new Error(`${tool} failed: ${JSON.stringify(result.structuredContent ?? result.content)}`);
  const structured = result.structuredContent as Record<string, unknown> | undefined;
  if (!structured || structured.status === 'running') throw new Error(`${tool} did not complete: ${JSON.stringify(result)}`);
  const runId = (result._meta as Record<string, unknown> | undefined)?.['baton/runId'];
  return { result: structured, runId: typeof runId === 'string' ? runId : undefined };
}
