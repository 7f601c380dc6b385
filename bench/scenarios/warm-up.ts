import type { Client } from '@modelcontextprotocol/client';
import type { DemoUserName, GatewayStack } from '../../test/support/gateway-stack.ts';
import { callOk, type BenchClients } from '../clients.ts';

/** The sandbox identity provider puts both demo users in this tenant (sandbox/users.ts). */
export const demoTenant = 'acme';
export const demoUsers: readonly DemoUserName[] = ['alice', 'bob'];

/**
 * Connects alice's and bob's GitHub and Slack through the real consent flow (one triage call each,
 * which asks for both apps at once), then makes a few unmeasured calls so the JIT, connection pools and
 * Temporal's caches are warm before anything is timed. Returns one connected client per user.
 */
export async function warmUp(gs: GatewayStack, clients: BenchClients, progress: (line: string) => void, extraCalls = 5): Promise<Map<DemoUserName, Client>> {
  const byUser = new Map<DemoUserName, Client>();
  for (const user of demoUsers) {
    const client = await clients.connect(user);
    byUser.set(user, client);
    await callOk(client, 'triage_pull_request');
    const apps = (await gs.stack.stores.vault.listConnections(demoTenant, user)).filter((c) => c.status === 'active').map((c) => c.app);
    if (!apps.includes('github') || !apps.includes('slack')) {
      throw new Error(`after consent ${user} in tenant ${demoTenant} has connections [${apps.join(', ')}], expected github and slack`);
    }
    progress(`${user}: GitHub and Slack connected`);
  }
  for (let i = 0; i < extraCalls; i += 1) {
    for (const client of byUser.values()) {
      await callOk(client, 'read_pull_request');
      await callOk(client, 'triage_pull_request');
    }
  }
  progress(`warm-up done (${extraCalls * 2 * demoUsers.length} unmeasured calls)`);
  return byUser;
}
