import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AuditLog } from '../audit/audit-log.ts';
import { countAuditRecords } from './audit-metrics.ts';

/**
 * One Prometheus registry per process: Node's own figures (event loop lag, memory, GC) and the counts of
 * the audit records this process writes, labelled with the process role so gateway and worker series
 * stay apart when one Prometheus scrapes both.
 */
export function createMetrics(role: 'gateway' | 'worker', audit: AuditLog): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: 'baton_' });
  countAuditRecords(registry, audit);
  return registry;
}

/**
 * The scrape endpoint. With BATON_METRICS_TOKEN set, a scraper must send it as a bearer token: metrics
 * name tools and apps, which is nobody else's business.
 */
export function metricsHandler(registry: Registry, token: string | undefined) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Without a token, only this machine may read the metrics: they name tools, apps and error rates.
    if (!token && !isLoopback(req.socket.remoteAddress)) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('Metrics are served to this machine only; set BATON_METRICS_TOKEN to let a scraper elsewhere read them with that bearer token.\n');
      return;
    }
    if (token && !bearerMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="baton-metrics"' });
      res.end('Metrics need the bearer token set in BATON_METRICS_TOKEN.\n');
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
  };
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (/^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address));
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** BATON_WORKER_METRICS_PORT: where a worker serves /metrics (unset: nowhere; 0: any free port, printed at start). */
export function workerMetricsPort(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.BATON_WORKER_METRICS_PORT;
  if (text === undefined || text === '') return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`BATON_WORKER_METRICS_PORT must be a TCP port (1-65535, or 0 for any free one); got "${text}".`);
  return port;
}

/** A process without an HTTP server of its own (the worker) serves `/metrics` on a port of its own. */
export async function serveMetrics(registry: Registry, port: number, token: string | undefined, host = '127.0.0.1'): Promise<Server> {
  const handle = metricsHandler(registry, token);
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') void handle(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served here.\n');
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  return server;
}
