/**
 * Workflow-side tracing (OpenTelemetry), in the workflow bundle only when tracing is on (the SDK evaluates
 * the bundle for every new workflow: leaving these out when nobody collects spans makes it 1.6 MB smaller).
 * A span for the run, continuing the trace of whoever started it (the gateway's, or the parent workflow's),
 * and spans for the activities, child workflows and signals it starts, whose headers carry the trace on.
 * The spans leave the sandbox through the worker's `exporter` sink (worker/tracing.ts). Registered before
 * the identity interceptors, so the run's span covers everything, identity handling included.
 */
import { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
