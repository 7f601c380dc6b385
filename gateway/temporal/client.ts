import type { Tracer } from '@opentelemetry/api';
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import type { BatonSettings } from '../../core/config/settings.ts';
import { connectTemporalClient } from '../../core/temporal/connect.ts';
import { identityClientInterceptor } from './identity-propagation.ts';

/**
 * A Temporal client whose calls carry the caller's signed identity (see actingAs) and, when tracing is
 * on (`tracer` given), the active trace context, so the runs it starts continue the caller's trace.
 * Address, TLS, API key, connect timeout and the namespace check: core/temporal/connect.ts.
 */
export async function connectTemporal(settings: BatonSettings, { tracer }: { tracer?: Tracer | null } = {}): Promise<Client> {
  const connection = await connectTemporalClient(settings.temporal);
  const tracing = tracer ? [new OpenTelemetryWorkflowClientInterceptor({ tracer })] : [];
  return new Client({ connection, namespace: settings.temporal.namespace, interceptors: { workflow: [...tracing, identityClientInterceptor] } });
}
