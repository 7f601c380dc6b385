/**
 * OpenTelemetry tracing for one Baton process (the gateway or a worker). Spans are exported with OTLP
 * over HTTP (JSON) only when the standard OTel environment says where to: OTEL_EXPORTER_OTLP_ENDPOINT
 * (`/v1/traces` is appended) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is). With neither set,
 * tracing is off: no provider, no tracer, and callers leave their tracing hooks out entirely, so it
 * costs nothing and exports nothing.
 *
 * The tracer is handed to its users rather than only fetched from the global API, so one process (a
 * test, `npm start`) can run a gateway and its own tracing side by side with others.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export type Tracing =
  | { readonly enabled: false; readonly tracer: null; shutdown(): Promise<void> }
  | {
      readonly enabled: true;
      readonly tracer: Tracer;
      /** Where finished spans go; a worker also hands it the spans its workflows record in the sandbox. */
      readonly spanProcessor: SpanProcessor;
      readonly resource: Resource;
      /** Flushes the spans not yet exported, then stops. */
      shutdown(): Promise<void>;
    };

export const tracingOff: Tracing = { enabled: false, tracer: null, shutdown: async () => {} };

/** The OTLP/HTTP traces URL the environment configures, or null when tracing is not configured. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (tracesEndpoint) return tracesEndpoint;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : null;
}

/**
 * Starts tracing as `serviceName` (OTEL_SERVICE_NAME overrides it) if `env` configures an OTLP endpoint.
 * Other OTLP settings (OTEL_EXPORTER_OTLP_HEADERS, timeouts, OTEL_BSP_*) are read by the SDK itself.
 */
export function startTracing({ serviceName, env = process.env }: { serviceName: string; env?: NodeJS.ProcessEnv }): Tracing {
  const url = otlpTracesUrl(env);
  if (!url) return tracingOff;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || serviceName });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Context (AsyncLocalStorage) and propagation (W3C traceparent) are process-wide by nature: the
  // Temporal interceptors inject and extract through the global API. The first tracing started in a
  // process installs them (later registrations are ignored by the API); the tracer stays ours.
  provider.register();
  return {
    enabled: true,
    tracer: provider.getTracer('baton'),
    spanProcessor,
    resource,
    shutdown: () => provider.shutdown(),
  };
}
