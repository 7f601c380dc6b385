import { Client, StreamableHTTPClientTransport, type ClientOptions } from '@modelcontextprotocol/client';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { tools } from '../../workflows/catalog.ts';
import type { CallableDefinition } from '../../workflows/sdk/define.ts';
import { createLogger } from '../../gateway/logger.ts';
import { serveGateway, type RunningGateway } from '../../gateway/serve.ts';
import { CookieKeepingClient, followConsentLink } from '../../sandbox/browserless-consent.ts';
import { signInOverHttp } from '../../sandbox/idp/headless-login.ts';
import { cliClient } from '../../sandbox/server.ts';
import { testTools } from '../fixtures/probe-tools.ts';
import { freePort, reservePort } from '../../scripts/free-port.ts';
import { Stack, type ConfigSetup } from './stack.ts';

export { freePort };

export type DemoUserName = 'alice' | 'bob' | 'carol' | 'dave';

export const openToEveryone = `servers:
  default:
    tools: "*"
    access: { users: ["*"], apiTokens: ["*"] }
`;

/**
 * The whole product for end-to-end tests: a Stack (sandbox apps and identity provider, worker, Temporal)
 * plus a real gateway process's HTTP server on its own port, configured like `npm start` configures it.
 */
export class GatewayStack {
  readonly stack: Stack;
  readonly url: string;
  readonly mcpUrl: string;
  /** The identity provider's signing key, so tests can forge look-alike tokens with the real key. */
  readonly idpKey: JWK;
  readonly gatewayEnv: NodeJS.ProcessEnv;
  #gateway: RunningGateway;
  readonly #tools: readonly CallableDefinition[];

  private constructor(fields: { stack: Stack; url: string; idpKey: JWK; gatewayEnv: NodeJS.ProcessEnv; gateway: RunningGateway; tools: readonly CallableDefinition[] }) {
    this.stack = fields.stack;
    this.url = fields.url;
    this.mcpUrl = `${fields.url}/mcp`;
    this.idpKey = fields.idpKey;
    this.gatewayEnv = fields.gatewayEnv;
    this.#gateway = fields.gateway;
    this.#tools = fields.tools;
  }

  /**
   * `config` is the gateway's `baton.yaml`; by default one server with every tool, open to every
   * signed-in user and API token (access control has its own suite).
   */
  static async start(
    options: {
      env?: NodeJS.ProcessEnv;
      logTo?: NodeJS.WritableStream;
      config?: string | ConfigSetup;
      temporalAddress?: string;
      /** The tools the gateway serves (the worker's bundle must hold the same): the catalogue and the test fixtures' by default. */
      tools?: readonly CallableDefinition[];
    } = {},
  ): Promise<GatewayStack> {
    // Held while the rest starts (seconds), let go just before the gateway binds it.
    const { port, release } = await reservePort();
    const url = `http://127.0.0.1:${port}`;
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const idpKey: JWK = { ...(await exportJWK(privateKey)), kid: 'sandbox-idp-test-key', alg: 'ES256', use: 'sig' };
    const browserClient = { clientId: 'baton-gateway', clientSecret: randomBytes(24).toString('base64url') };
    const { config = openToEveryone } = options;
    const stack = await Stack.start({
      publicUrl: url,
      temporalAddress: options.temporalAddress,
      idp: { clients: { baton: { ...browserClient, redirectUris: [`${url}/auth/callback`] } }, signingKeys: [idpKey] },
      // Worker and tests may need the gateway's IdP client too (token exchange acts as Baton's client).
      config: (sandbox) => {
        const setup = typeof config === 'string' ? { yaml: config } : config(sandbox);
        return { ...setup, env: { BATON_IDP_CLIENT_ID: browserClient.clientId, BATON_IDP_CLIENT_SECRET: browserClient.clientSecret, ...setup.env } };
      },
    }).catch(async (error: unknown) => {
      await release();
      throw error;
    });
    const gatewayEnv: NodeJS.ProcessEnv = {
      ...stack.workerEnv,
      PORT: String(port),
      BATON_IDP_ISSUER: stack.sandbox.idpIssuer,
      BATON_IDP_CLIENT_ID: browserClient.clientId,
      BATON_IDP_CLIENT_SECRET: browserClient.clientSecret,
      BATON_IDENTITY_PRIVATE_JWK: JSON.stringify(stack.identityKey),
      ...options.env,
    };
    const log = options.logTo ? createLogger({ level: 'debug', destination: options.logTo }) : createLogger({ level: process.env.BATON_TEST_LOG_LEVEL ?? 'silent' });
    const served = options.tools ?? [...tools, ...testTools];
    await release();
    const gateway = await serveGateway({ env: gatewayEnv, tools: served, log });
    return new GatewayStack({ stack, url, idpKey, gatewayEnv, gateway, tools: served });
  }

  /** Stops the gateway and starts a fresh one on the same port and database (a gateway restart). */
  async restartGateway(): Promise<void> {
    await this.#gateway.close();
    this.#gateway = await serveGateway({ env: this.gatewayEnv, tools: this.#tools, log: createLogger({ level: 'silent' }) });
  }

  /** A bearer token for the user, from the identity provider, the way `npx baton token` gets one. */
  async tokenFor(user: DemoUserName, scope = 'openid profile email mcp:tools', resource = this.mcpUrl): Promise<string> {
    const signedIn = await signInOverHttp({
      issuer: this.stack.sandbox.idpIssuer,
      clientId: cliClient.clientId,
      redirectUri: cliClient.redirectUri,
      resource,
      scope,
      username: user,
      password: user,
    });
    return signedIn.accessToken;
  }

  /**
   * An access token for `subject` as the identity provider would issue it (signed with its key, for this
   * gateway's MCP resource, scope `mcp:tools`): for users and roles a test invents without signing them in.
   */
  async tokenSignedFor(subject: string, claims: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT({ scope: 'openid mcp:tools', tenant: 'acme', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: this.idpKey.kid!, typ: 'at+jwt' })
      .setIssuer(this.stack.sandbox.idpIssuer)
      .setAudience(this.mcpUrl)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(await importJWK(this.idpKey, 'ES256'));
  }

  /** A real MCP client over Streamable HTTP with the given bearer token. */
  async connect(token: string, options: ClientOptions = {}, mcpUrl = this.mcpUrl): Promise<Client> {
    const client = new Client({ name: 'baton-test-client', version: '1.0.0' }, options);
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    return client;
  }

  /**
   * What the end user does with a consent link, over plain HTTP as a browser would: open Baton's
   * link, sign in at the identity provider if asked, approve (or deny) at the app, and land on
   * Baton's result page, whose status and text are returned.
   */
  async consentInBrowser(link: string, user: DemoUserName, decision: 'approve' | 'deny' = 'approve', browser = new CookieKeepingClient()): Promise<{ status: number; text: string }> {
    return followConsentLink(link, { batonUrl: this.url, idpIssuer: this.stack.sandbox.idpIssuer, user, decision, browser });
  }

  /**
   * A 2026-07-28 client of `user`'s that shows URL elicitations: it approves every consent link it is given in
   * the browser (consentInBrowser) and records each prompt's message in `asked`.
   */
  async consentingClient(user: DemoUserName): Promise<{ client: Client; asked: string[] }> {
    const client = await this.connect(await this.tokenFor(user), { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } });
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      const { url, message } = request.params as { url: string; message: string };
      asked.push(message);
      await this.consentInBrowser(url, user);
      return { action: 'accept' };
    });
    return { client, asked };
  }

  async close(): Promise<void> {
    await this.#gateway.close();
    await this.stack.close();
  }
}

/**
 * One GatewayStack for a whole suite: started before its first test (handed to `use`), closed after
 * its last. `let gs: GatewayStack; gatewayStackForSuite((started) => (gs = started));`
 */
export function gatewayStackForSuite(use: (stack: GatewayStack) => void, options: Parameters<typeof GatewayStack.start>[0] = {}): void {
  let started: GatewayStack | undefined;
  beforeAll(async () => {
    started = await GatewayStack.start(options);
    use(started);
  }, 120_000);
  afterAll(async () => {
    await started?.close();
  });
}
