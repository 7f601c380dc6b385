import { Client, Connection } from '@temporalio/client';
import type { BatonSettings } from '../../core/config/settings.ts';
import { identityClientInterceptor } from './identity-propagation.ts';

/** A Temporal client whose calls carry the caller's signed identity (see actingAs). */
export async function connectTemporal(settings: BatonSettings): Promise<Client> {
  const connection = await Connection.connect({ address: settings.temporal.address });
  return new Client({ connection, namespace: settings.temporal.namespace, interceptors: { workflow: [identityClientInterceptor] } });
}
