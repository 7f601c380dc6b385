// The ids of whatever span is active right now, for stamping into log lines and audit records so they
// can be joined with traces. Reads only the OTel API context, so it is safe (and ~free) whether or not
// tracing is set up: with tracing off there is no valid active span, and the answer is null.
import { isSpanContextValid, trace, type SpanContext } from '@opentelemetry/api';

export function activeSpanContext(): SpanContext | null {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext : null;
}

export function currentTraceId(): string | null {
  return activeSpanContext()?.traceId ?? null;
}
