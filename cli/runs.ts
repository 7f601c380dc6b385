/**
 * `baton runs [--limit N] [--json]` and `baton runs show <run id> [--json]`: your own runs, through the
 * gateway's API with your token (BATON_TOKEN or --token) — their status, what they wait for (with the
 * link to connect), and each step with the app and whose credential it used.
 */
import { parseCommandLine } from './command-line.ts';
import { apiOptions, callGateway, GatewayApiError } from './gateway-api.ts';

const usage = 'usage: baton runs [--limit N] [--json] | baton runs show <run id> [--json]   (yours, with BATON_TOKEN or --token)';

interface ListedRun {
  runId: string;
  tool: string;
  createdAt: string;
  state: string;
  failure: string | null;
  waitingFor: { appName: string; connectUrl: string }[];
  steps: { app: string; action: string; outcome: string; credential: { owner: string; externalAccount: string | null } | null }[];
}

const { positionals, values } = parseCommandLine('runs', usage, { limit: { type: 'string' }, json: { type: 'boolean' }, ...apiOptions });
const [action = 'list', runId] = positionals;
const api = { url: values.url, token: values.token };

function describe(run: ListedRun, withSteps: boolean): string {
  const lines = [`${run.createdAt}  ${run.state.padEnd(9)}  ${run.tool}  ${run.runId}`];
  if (run.failure) lines.push(`  failed: ${run.failure}`);
  for (const wait of run.waitingFor) lines.push(`  waiting for you to connect ${wait.appName}: ${wait.connectUrl}`);
  if (withSteps) {
    for (const step of run.steps) {
      const whose =
        !step.credential || step.credential.owner === 'none' ? 'no credential' : step.credential.owner === 'user' ? `your ${step.credential.externalAccount ?? ''} connection` : 'the service account';
      lines.push(`  ${step.app} ${step.action} → ${step.outcome} (${whose})`);
    }
  }
  return lines.join('\n');
}

try {
  if (action === 'list') {
    const { runs } = (await (await callGateway(api, '/api/runs', { query: { limit: values.limit } })).json()) as { runs: ListedRun[] };
    if (values.json) console.log(JSON.stringify(runs, null, 2));
    else console.log(runs.length ? runs.map((run) => describe(run, false)).join('\n') : 'You have no runs yet.');
  } else if (action === 'show' && runId) {
    const run = (await (await callGateway(api, `/api/runs/${encodeURIComponent(runId)}`)).json()) as ListedRun;
    console.log(values.json ? JSON.stringify(run, null, 2) : describe(run, true));
  } else {
    console.error(usage);
    process.exitCode = 2;
  }
} catch (error) {
  if (!(error instanceof GatewayApiError)) throw error;
  console.error(`baton runs: ${error.message}`);
  process.exitCode = 1;
}
