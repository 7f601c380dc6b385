import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type Tracer } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * One server span per HTTP request, active while the request is handled, so everything it leads to (a
 * tools/call's Temporal start, the run, its child workflows and activities) lands in the same trace.
 *
 * Every request starts a trace of Baton's own: the trace id the audit trail records is Baton's, never one a
 * caller chose (which could pass off its requests as part of another user's trace). A caller's W3C
 * `traceparent` is kept as the caller's: a link from the request's span to the caller's span, and the
 * `baton.client.trace_id` attribute, so the caller's trace can still be joined to Baton's.
 */
export function traceRequests(tracer: Tracer, listener: RequestListener): RequestListener {
  return (req, res) => {
    const client = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, req.headers));
    const links: Link[] = client && isSpanContextValid(client) ? [{ context: client }] : [];
    // The query string never goes into a span: OAuth callbacks carry codes and state there.
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method ?? 'GET';
    const attributes = { 'http.request.method': method, 'url.path': path, ...(links[0] ? { 'baton.client.trace_id': links[0].context.traceId } : {}) };
    const span = tracer.startSpan(`${method} ${route(path)}`, { kind: SpanKind.SERVER, attributes, links, root: true }, ROOT_CONTEXT);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => listener(req, res));
  };
}

/** The path with id-like segments (consent ids, run ids) generalised, so span names stay few. */
function route(path: string): string {
  return path.replace(/\/[^/]*\d[^/]{14,}/g, '/:id');
}
