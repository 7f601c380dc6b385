/**
 * The worker's side of tracing: a span per activity (child of the workflow span that scheduled it, read
 * from the activity's headers), trace ids on activity log lines, and the sink through which the
 * workflow interceptors (workflows/tracing-interceptors.ts: in the bundle when tracing is on, and in a
 * prebuilt bundle made with them) hand over the spans they record inside the workflow sandbox. With tracing
 * off the activity hooks are left out and any workflow spans are dropped at the sink.
 */
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Tracing } from '../core/telemetry/tracing.ts';

export function activityTracing(tracing: Tracing): ActivityInterceptorsFactory[] {
  const { tracer } = tracing;
  if (!tracer) return [];
  return [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })];
}

export function workflowSpanSinks(tracing: Tracing): InjectedSinks<OpenTelemetrySinks> {
  if (!tracing.enabled) return { exporter: { export: { fn: () => undefined } } };
  return { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) };
}
