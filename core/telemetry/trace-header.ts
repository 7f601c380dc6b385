/**
 * The Temporal header in which `@temporalio/interceptors-opentelemetry` carries the W3C trace context
 * (its `TRACE_HEADER`). Named here so workflow code can keep the header without bundling OpenTelemetry;
 * worker/run-record-sink.ts checks at compile time that it is still the interceptors' name.
 */
export const TRACE_HEADER = '_tracer-data';
