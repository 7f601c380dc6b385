/**
 * `baton audit`: the audit trail from the command line.
 *   baton audit [--user alice] [--app github] [--tool t] [--run id] [--kind k] [--outcome o] [--since 1h] [--until t] [--limit n] [--json]
 *   baton audit export [same filters] > audit.jsonl
 *   baton audit who --app jira --object OPS-12 [--json]
 *   baton audit verify [--expect-head <seq>:<hash>]
 *   baton audit checkpoint
 * Reading goes through the gateway's audit API with your token (BATON_TOKEN or --token), so you see what
 * the API lets you see: your own records, or everyone's with the owner or admin role. `verify` is an
 * operator's check of the database itself and needs the server's audit key.
 */
import type { AuditRecord } from '../core/audit/audit-event.ts';
import { writeCheckpoint } from '../core/audit/checkpoints.ts';
import { verifyAuditChain } from '../core/audit/verify-chain.ts';
import { loadSettings } from '../core/config/settings.ts';
import { describeDatabase, openDatabase } from '../core/db.ts';
import { loadAuditKey } from '../core/stores.ts';
import { formatAuditTable } from './audit-table.ts';
import { parseCommandLine } from './command-line.ts';
import { apiOptions, callGateway, GatewayApiError } from './gateway-api.ts';

const filterOptions = ['user', 'tenant', 'app', 'tool', 'run', 'kind', 'outcome', 'since', 'until', 'limit', 'before'] as const;
const usage = `usage: baton audit [--user U] [--app A] [--tool T] [--run ID] [--kind K] [--outcome O] [--since 1h] [--until T] [--limit N] [--json]
       baton audit export [filters]            JSON Lines on stdout
       baton audit who --app A --object ID     who made that change (e.g. --app jira --object OPS-12)
       baton audit verify [--expect-head SEQ:HASH]
       baton audit checkpoint
options: --url <gateway> (BATON_URL; default: the dev instance this project runs, else http://127.0.0.1:3000)  --token <bearer> (BATON_TOKEN; e.g. $(npx baton token alice))`;

const { positionals, values } = parseCommandLine('audit', usage, {
  ...(Object.fromEntries(filterOptions.map((name) => [name, { type: 'string' as const }])) as Record<(typeof filterOptions)[number], { type: 'string' }>),
  object: { type: 'string' },
  json: { type: 'boolean' },
  ...apiOptions,
  'expect-head': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
});
const [command = 'list'] = positionals;

function fail(message: string, code = 1): never {
  console.error(`baton audit: ${message}`);
  process.exit(code);
}

async function fromGateway(path: string, query: Record<string, string | undefined>): Promise<Response> {
  try {
    return await callGateway({ url: values.url as string | undefined, token: values.token as string | undefined }, path, { query });
  } catch (error) {
    if (error instanceof GatewayApiError) fail(error.message);
    throw error;
  }
}

const filters = () => Object.fromEntries(filterOptions.map((name) => [name, values[name] as string | undefined]));

if (values.help) {
  console.log(usage);
} else if (command === 'list') {
  const { records } = (await (await fromGateway('/api/audit', filters())).json()) as { records: AuditRecord[] };
  console.log(values.json ? JSON.stringify(records, null, 2) : formatAuditTable(records));
} else if (command === 'export') {
  const response = await fromGateway('/api/audit/export', { ...filters(), limit: undefined, before: undefined });
  for await (const chunk of response.body!) process.stdout.write(chunk);
} else if (command === 'who') {
  if (!values.app || !values.object) fail('who needs --app and --object, e.g. baton audit who --app jira --object OPS-12', 2);
  const answer = (await (await fromGateway('/api/audit/who', { app: values.app as string, object: values.object as string })).json()) as {
    changes: Array<{ person: AuditRecord['actor']; at: string; tool: string; action: string; runPath: string[]; credential: AuditRecord['credential'] }>;
  };
  if (values.json) console.log(JSON.stringify(answer, null, 2));
  else if (answer.changes.length === 0) console.log(`No recorded change of ${values.object} in ${values.app} that you can see.`);
  else {
    for (const change of answer.changes) {
      const credential = change.credential
        ? `${change.credential.owner === 'user' ? `${change.person.subject}'s own connection` : 'the service account'} (${change.credential.externalAccount ?? 'unknown account'}; ${change.credential.mode})`
        : 'none';
      console.log(`${change.person.name ?? change.person.subject} <${change.person.email ?? 'no e-mail'}> (${change.person.subject}, signed in with ${change.person.authMethod})`);
      console.log(`  at ${change.at}: ${values.app} ${change.action} in tool ${change.tool}, as ${credential}`);
      console.log(`  run path: ${change.runPath.join(' > ')}`);
    }
  }
} else if (command === 'verify') {
  const settings = loadSettings();
  const db = await openDatabase(settings);
  try {
    const expected = values['expect-head'] as string | undefined;
    const head = expected ? /^(\d+):(\S+)$/.exec(expected) : null;
    if (expected && !head) fail('--expect-head takes <seq>:<hash>, as printed by an earlier verify.', 2);
    const report = await verifyAuditChain(db, loadAuditKey(settings).bytes, head ? { seq: Number(head[1]), hash: head[2]! } : undefined);
    for (const problem of report.problems) console.log(`FAIL ${problem.message}`);
    if (report.problems.length > 0) {
      console.log(`The audit log at ${describeDatabase(settings)} has been tampered with: ${report.problems.length} problem(s) in ${report.records} records.`);
      process.exitCode = 1;
    } else {
      const head = report.head
        ? ` Head ${report.head.seq}:${report.head.hash} (the newest checkpoint: keep it elsewhere; pass it to --expect-head later to detect a cut tail).`
        : ' No checkpoint yet (processes write one every BATON_AUDIT_CHECKPOINT_SECONDS and when they stop; `baton audit checkpoint` writes one now).';
      const uncovered = report.uncovered > 0 ? ` ${report.uncovered} record(s) written since that checkpoint are covered by the next one.` : '';
      console.log(`OK: ${report.records} records in ${report.chains} chain(s) and ${report.checkpoints} checkpoint(s), intact.${head}${uncovered}`);
    }
  } finally {
    await db.close();
  }
} else if (command === 'checkpoint') {
  const settings = loadSettings();
  const db = await openDatabase(settings);
  try {
    const written = await writeCheckpoint(db, loadAuditKey(settings).bytes);
    console.log(written === null ? 'No chain moved since the last checkpoint (or another process wrote it just now): nothing to write.' : `Checkpoint #${written} written.`);
  } finally {
    await db.close();
  }
} else {
  fail(usage, 2);
}
