import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionLike } from '@temporalio/client';
import type { Logger } from 'pino';
import { loadGatewaySettings, type GatewaySettings } from '../core/config/gateway-settings.ts';
import { loadDeclaredApps } from '../apps/openapi/declared-apps.ts';
import { exposedAppTools } from './apps/exposed-tools.ts';
import { loadSettings, type BatonSettings } from '../core/config/settings.ts';
import { loadIdentityKeys } from '../core/identity/keys.ts';
import { createIdentitySigner } from '../core/identity/signer.ts';
import { createWorkflowMessageSigner } from '../core/identity/workflow-messages.ts';
import { openStores } from '../core/stores.ts';
import { shutdownGraceMs } from '../core/shutdown.ts';
import { startTracing } from '../core/telemetry/tracing.ts';
import type { CallableDefinition } from '../workflows/sdk/define.ts';
import { createGateway } from './create-gateway.ts';
import { traceRequests } from './http/trace-requests.ts';
import { connectTemporal } from './temporal/client.ts';

export interface RunningGateway {
  /** http://HOST:PORT, no trailing slash. */
  url: string;
  mcpUrl: string;
  settings: BatonSettings;
  gateway: GatewaySettings;
  /** The gateway's Temporal connection (to watch it). */
  temporalConnection: ConnectionLike;
  /**
   * Graceful stop: refuse new connections (and `/readyz` answers 503), make tool calls waiting on runs
   * answer with a handle now, let the requests in flight finish (for at most BATON_SHUTDOWN_GRACE_SECONDS,
   * then cut what is left), then let go of Temporal and the database.
   */
  close(): Promise<void>;
}

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Starts a gateway process's HTTP server. It binds first, so that with `PORT=0` the public URL (and
 * with it the MCP resource URI tokens must name) can be the port actually bound. Tracing follows the
 * OTel variables in `env` (see core/telemetry/tracing.ts).
 */
export async function serveGateway(options: { env: NodeJS.ProcessEnv; tools: readonly CallableDefinition[]; log: Logger }): Promise<RunningGateway> {
  const host = options.env.BATON_HOST ?? '127.0.0.1';
  const server = createServer();
  await listen(server, Number(options.env.PORT ?? 3000), host);
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const env = { ...options.env, PORT: String(port), BATON_PUBLIC_URL: options.env.BATON_PUBLIC_URL ?? url };
  // What has been opened so far, closed again (newest first) if start-up fails half-way.
  const opened: (() => unknown)[] = [() => server.close()];
  try {
    const settings = loadSettings(env);
    // Apps declared from OpenAPI documents get their actions now, before anything reads the apps.
    await loadDeclaredApps(settings);
    const graceMs = shutdownGraceMs(env);
    const gatewaySettings = loadGatewaySettings(settings, env);
    const stores = await openStores(settings, env);
    opened.push(() => stores.close());
    const keys = await loadIdentityKeys({ env, devKeyFile: join(settings.home, 'identity-key.json') });
    if (!keys.privateJwk) throw new Error('The gateway signs identities: set BATON_IDENTITY_PRIVATE_JWK (the workers get the public half in BATON_IDENTITY_JWKS).');
    const tracing = startTracing({ serviceName: 'baton-gateway', env });
    opened.push(() => tracing.shutdown());
    const client = await connectTemporal(settings, { tracer: tracing.tracer, signMessages: await createWorkflowMessageSigner(keys.privateJwk) });
    opened.push(() => client.connection.close());
    const gateway = await createGateway({
      settings,
      gateway: gatewaySettings,
      stores,
      client,
      sign: await createIdentitySigner(keys.privateJwk),
      // The tools of toolsFrom, and the app actions the configuration exposes as tools.
      tools: [...options.tools, ...exposedAppTools(settings, options.tools)],
      log: options.log,
      version,
      env,
    });
    const handle = tracing.tracer ? traceRequests(tracing.tracer, gateway.app) : gateway.app;
    let draining = false;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (draining) {
        // A keep-alive connection's next request: answered, then the connection is closed.
        res.setHeader('Connection', 'close');
        if (req.url === '/readyz') return void res.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'draining' }));
      }
      handle(req, res);
    });
    let closing: Promise<void> | undefined;
    return {
      url,
      mcpUrl: gatewaySettings.resourceUrl,
      settings,
      gateway: gatewaySettings,
      temporalConnection: client.connection,
      close: () =>
        (closing ??= (async () => {
          draining = true;
          gateway.drain();
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
            // Connections whose last response has just gone out are idle now: close them too.
            const sweep = setInterval(() => server.closeIdleConnections(), 100);
            const cut = setTimeout(() => server.closeAllConnections(), graceMs);
            server.once('close', () => {
              clearInterval(sweep);
              clearTimeout(cut);
            });
          });
          await gateway.close();
          await client.connection.close();
          await tracing.shutdown();
          await stores.close();
        })()),
    };
  } catch (error) {
    for (const close of opened.reverse()) await close();
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} on ${host} is in use; set PORT to another port.`) : error));
    server.listen(port, host, resolve);
  });
}
