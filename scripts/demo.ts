/**
 * `npm run demo -- [user] [owner/repo] [number]`: runs triage_pull_request as a demo user against
 * the `npm start` stack, printing a consent link whenever the run pauses, then the result.
 * (The MCP gateway is the way agents call tools; this script is the same start through the Temporal client.)
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings } from '../core/config/settings.ts';
import { loadIdentityKeys } from '../core/identity/keys.ts';
import { createIdentitySigner } from '../core/identity/signer.ts';
import { connectTemporal } from '../gateway/temporal/client.ts';
import { startTool } from '../gateway/temporal/start-tool.ts';
import { awaitOutcomeUpdate } from '../workflows/protocol.ts';
import { triagePullRequest } from '../workflows/tools/triage-pull-request.ts';
import { devPorts } from './dev-environment.ts';

const [user = 'alice', repo = 'acme/widgets', number = '1'] = process.argv.slice(2);
if (user !== 'alice' && user !== 'bob') throw new Error('The demo users are alice and bob.');
const home = join(resolve(fileURLToPath(new URL('..', import.meta.url))), '.baton');
const settings = loadSettings({ ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${devPorts.temporal}`, BATON_PUBLIC_URL: `http://127.0.0.1:${devPorts.gateway}` });
const keys = await loadIdentityKeys({ devKeyFile: join(home, 'identity-key.json') });
const sign = await createIdentitySigner(keys.privateJwk!);
const client = await connectTemporal(settings);

const identity = {
  subject: user,
  email: `${user}@example.com`,
  displayName: `${user[0]!.toUpperCase()}${user.slice(1)} Example`,
  tenant: 'acme',
  authMethod: 'oauth' as const,
  groups: [],
  roles: [],
  issuer: 'baton-demo',
  inboundTokenRef: null,
};
const handle = await startTool(client, sign, { tool: triagePullRequest, input: { repo, number: Number(number) }, identity, taskQueue: settings.temporal.taskQueue });
console.log(`started ${handle.workflowId} as ${user}`);
const seen: string[] = [];
for (;;) {
  const status = await handle.executeUpdate(awaitOutcomeUpdate, { args: [{ seenConsentIds: seen }] });
  if (status.state === 'completed') {
    console.log(JSON.stringify(status.result, null, 2));
    break;
  }
  if (status.state === 'failed') {
    console.error(`failed: ${status.error.message}`);
    process.exitCode = 1;
    break;
  }
  for (const consent of status.pending.filter((p) => !seen.includes(p.consentId))) {
    console.log(`paused: ${consent.message}\n  connect ${consent.appName} as ${user}: ${settings.publicUrl}/connect/${consent.consentId}`);
    seen.push(consent.consentId);
  }
}
await client.connection.close();
