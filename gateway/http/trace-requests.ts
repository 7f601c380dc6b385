import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * One server span per HTTP request, active while the request is handled, so everything it leads to (a
 * tools/call's Temporal start, the run, its child workflows and activities) lands in the same trace. A
 * caller that sends a W3C `traceparent` gets the span as a child of its own.
 */
export function traceRequests(tracer: Tracer, listener: RequestListener): RequestListener {
  return (req, res) => {
    const parent = propagation.extract(context.active(), req.headers);
    // The query string never goes into a span: OAuth callbacks carry codes and state there.
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method ?? 'GET';
    const span = tracer.startSpan(`${method} ${route(path)}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } }, parent);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => listener(req, res));
  };
}

/** The path with id-like segments (consent ids, run ids) generalised, so span names stay few. */
function route(path: string): string {
  return path.replace(/\/[^/]*\d[^/]{14,}/g, '/:id');
}
