import type { Tracer } from '@opentelemetry/api';
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import type { BatonSettings } from '../../core/config/settings.ts';
import { connectTemporalClient } from '../../core/temporal/connect.ts';
import type { WorkflowMessageSigner } from '../../core/identity/workflow-messages.ts';
import { identityClientInterceptor } from './identity-propagation.ts';

/**
 * A Temporal client whose calls carry the caller's signed identity (see actingAs) and, when tracing is
 * on (`tracer` given), the active trace context, so the runs it starts continue the caller's trace. With
 * `signMessages`, its signals are signed (a run acts on a consent decision or an answer only if it is).
 * Address, TLS, API key, connect timeout and the namespace check: core/temporal/connect.ts.
 */
export async function connectTemporal(settings: BatonSettings, { tracer, signMessages }: { tracer?: Tracer | null; signMessages?: WorkflowMessageSigner } = {}): Promise<Client> {
  const connection = await connectTemporalClient(settings.temporal);
  const tracing = tracer ? [new OpenTelemetryWorkflowClientInterceptor({ tracer })] : [];
  return new Client({ connection, namespace: settings.temporal.namespace, interceptors: { workflow: [...tracing, identityClientInterceptor(signMessages)] } });
}
