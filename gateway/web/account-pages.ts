import type { AuditCredential, AuditRecord } from '../../core/audit/audit-event.ts';
import type { ConnectionInfo } from '../../core/vault/connection-types.ts';
import type { AppConnectionView, RunView } from './account-views.ts';
import { escapeHtml as esc } from './pages.ts';

/**
 * The end user's account pages (connections, runs, audit trail) as plain HTML: a nav, a `<main>`,
 * headings, tables with header cells, labelled inputs, visible focus, and no script at all. Every value
 * goes through `esc` — app data (a pull-request title, an upstream error) may contain markup — and no
 * template is ever handed a token or key to render.
 */

export type AccountSection = 'connections' | 'runs' | 'audit';

/** Who is signed in, and the CSRF tokens of the forms every page carries. */
export interface PageFrame {
  user: { subject: string; name: string | null; email: string | null };
  signOutCsrf: string;
}

/** One line above the content: what just happened (status) or what went wrong (alert). */
export interface Notice {
  kind: 'status' | 'alert';
  text: string;
}

const style = `
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}
a{color:#0b57d0}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;padding:.75rem 1.5rem;border-bottom:1px solid #ccc;background:#f6f7f9}
header .brand{font-weight:700;text-decoration:none;color:#1b1b1b}
nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}
nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.who{display:flex;gap:.75rem;align-items:center;margin:0}
main{max-width:84rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.5rem;margin-top:0}h2{font-size:1.2rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #c8c8c8;padding:.4rem .6rem;text-align:left;vertical-align:top}
thead th{background:#eef0f3}
td ol,td ul{margin:0;padding-left:1.2rem}
form.inline{display:inline-block;margin:0 .4rem .4rem 0}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end}
form.filters div,form.key{display:flex;flex-direction:column}
input,select,button,.button{font:inherit;padding:.3rem .7rem;border-radius:4px}
input,select{border:1px solid #767676}
button,.button{border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:#0b57d0}
button.danger{background:#fff;color:#a50e0e;border-color:#a50e0e}
:focus-visible{outline:3px solid #e8710a;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
.status-completed,.status-connected{color:#146c2e}.status-failed,.status-revoked{color:#a50e0e}.status-waiting,.status-needs_reconsent{color:#8a4b00}
.notice{padding:.6rem .9rem;border-radius:4px;border:1px solid #146c2e;background:#e6f4ea}
.notice.alert{border-color:#a50e0e;background:#fce8e6}
.muted{color:#555}
code{font-size:.9em;overflow-wrap:anywhere}
.nowrap{white-space:nowrap}
.scroll{overflow-x:auto}
ul.actions{list-style:none;padding:0;margin:.4rem 0 0}ul.actions li{margin:0 0 .4rem}
`;

const sections: { id: AccountSection; href: string; text: string }[] = [
  { id: 'connections', href: '/account/connections', text: 'Connections' },
  { id: 'runs', href: '/account/runs', text: 'Runs' },
  { id: 'audit', href: '/account/audit', text: 'Audit' },
];

function layout(frame: PageFrame, current: AccountSection | null, title: string, body: string, notice?: Notice): string {
  const nav = sections.map((section) => `<li><a href="${section.href}"${section.id === current ? ' aria-current="page"' : ''}>${section.text}</a></li>`).join('');
  const who = frame.user.name ?? frame.user.email ?? frame.user.subject;
  const noticeHtml = notice ? `<p class="notice${notice.kind === 'alert' ? ' alert' : ''}" role="${notice.kind}">${esc(notice.text)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)} · Baton</title>
<style>${style}</style></head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header>
<a class="brand" href="/account">Baton</a>
<nav aria-label="Account"><ul>${nav}</ul></nav>
<div class="who"><span>Signed in as <strong>${esc(who)}</strong>${who === frame.user.subject ? '' : ` <span class="muted">(${esc(frame.user.subject)})</span>`}</span>
<form class="inline" method="post" action="/account/sign-out"><input type="hidden" name="csrf" value="${esc(frame.signOutCsrf)}"><button class="secondary" type="submit">Sign out</button></form></div>
</header>
<main id="content">
<h1>${esc(title)}</h1>
${noticeHtml}
${body}
</main>
</body>
</html>`;
}

/** A time as UTC text, with a machine-readable datetime. */
export function time(epochMs: number | null | undefined): string {
  if (epochMs === null || epochMs === undefined || !Number.isFinite(epochMs)) return '<span class="muted">—</span>';
  const iso = new Date(epochMs).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

const hidden = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
const appPath = (app: string, action: string) => `/account/connections/${encodeURIComponent(app)}/${action}`;

function connectionStatus(connection: ConnectionInfo | undefined): string {
  if (!connection) return '<span class="status-none">Not connected</span>';
  const login = `@${esc(connection.externalLogin)}`;
  if (connection.status === 'active') return `<span class="status-connected">Connected as ${login}</span>`;
  const reason = connection.statusReason ? `<br><span class="muted">${esc(connection.statusReason)}</span>` : '';
  if (connection.status === 'needs_reconsent') return `<span class="status-needs_reconsent">Needs re-consent</span> (was ${login})${reason}`;
  return `<span class="status-revoked">Revoked</span> (was ${login})${reason}`;
}

/** The CSRF tokens of one app's forms on the connections page. */
export interface AppFormTokens {
  connect: string;
  revoke: string;
  key: string;
}

function connectionActions(view: AppConnectionView, csrf: AppFormTokens, keyError: string | undefined): string {
  const forms: string[] = [];
  if (view.connectWith === 'oauth') {
    const verb = view.connection ? 'Reconnect' : 'Connect';
    forms.push(`<form class="inline" method="post" action="${appPath(view.app, 'connect')}">${hidden(csrf.connect)}<button type="submit">${verb} ${esc(view.appName)}</button></form>`);
  } else {
    const id = `key-${esc(view.app)}`;
    const error = keyError ? `<p class="notice alert" role="alert" id="${id}-error">${esc(keyError)}</p>` : '';
    forms.push(
      `<form class="key" method="post" action="${appPath(view.app, 'key')}">${hidden(csrf.key)}${error}` +
        `<label for="${id}">${view.connection ? 'Replace' : 'Enter'} your ${esc(view.appName)} API key</label>` +
        `<input id="${id}" name="secret" type="password" autocomplete="off" required${keyError ? ` aria-invalid="true" aria-describedby="${id}-error"` : ''}>` +
        `<span><button type="submit">Save ${esc(view.appName)} key</button></span></form>`,
    );
  }
  if (view.connection) {
    forms.push(`<form class="inline" method="post" action="${appPath(view.app, 'revoke')}">${hidden(csrf.revoke)}<button class="danger" type="submit">Revoke ${esc(view.appName)}</button></form>`);
  }
  return forms.join('');
}

export function connectionsPage(frame: PageFrame, views: readonly AppConnectionView[], csrfFor: (app: string) => AppFormTokens, notice?: Notice, keyError?: { app: string; message: string }): string {
  const rows = views
    .map((view) => {
      const c = view.connection;
      const scopes = c?.scopes.length ? c.scopes.map((scope) => `<code>${esc(scope)}</code>`).join(', ') : '<span class="muted">—</span>';
      return `<tr><th scope="row">${esc(view.appName)}</th><td>${connectionStatus(c)}</td><td>${scopes}</td><td>${time(c?.createdAt)}</td><td>${time(c?.lastUsedAt)}</td><td>${connectionActions(view, csrfFor(view.app), keyError?.app === view.app ? keyError.message : undefined)}</td></tr>`;
    })
    .join('\n');
  const table = views.length
    ? `<table><caption>Apps you connect as yourself</caption>
<thead><tr><th scope="col">App</th><th scope="col">Status</th><th scope="col">Scopes</th><th scope="col">Connected at</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : '<p>No app here uses your own account: every app is reached with an organisation credential.</p>';
  return layout(
    frame,
    'connections',
    'Your connections',
    `<p>Baton's tools call these apps as you, with the account you connect here. Tokens and keys are stored encrypted and are never shown again. Revoking deletes Baton's copy and asks the app to revoke it too.</p>
${table}`,
    notice,
  );
}

const stateText: Record<RunView['state'], string> = {
  running: 'Running',
  waiting: 'Waiting for you',
  completed: 'Completed',
  failed: 'Failed',
  unknown: 'Unknown',
};

function runStatus(run: RunView): string {
  const label = `<span class="status-${run.state}">${stateText[run.state]}</span>`;
  if (run.state === 'waiting') {
    const links = run.waitingOn.map((w) => `<li><a class="button" href="/connect/${encodeURIComponent(w.consentId)}">Connect ${esc(w.appName)}</a></li>`).join('');
    return `${label}<ul class="actions">${links}</ul>`;
  }
  if (run.state === 'failed' && run.failure) return `${label}: ${esc(run.failure)}`;
  if (run.state === 'unknown') return `${label} <span class="muted">(Temporal no longer knows this run)</span>`;
  return label;
}

/** Whose credential an app call presented, in words. */
export function credentialText(credential: AuditCredential | null, own: boolean): string {
  if (!credential) return '<span class="muted">none presented</span>';
  const account = (prefix: string) => (credential.externalAccount ? ` (${prefix}${esc(credential.externalAccount)})` : '');
  const mode = ` <span class="muted">· ${esc(credential.mode)}</span>`;
  if (credential.owner === 'user') return `${own ? 'Your connection' : 'The user’s connection'}${account('@')}${mode}`;
  if (credential.owner === 'service_account') return `Service account${account('')}${mode}${credential.reason ? `<br><span class="muted">${esc(credential.reason)}</span>` : ''}`;
  return `No credential${mode}`;
}

const appName = (app: string | null, names: (app: string) => string) => (app ? esc(names(app)) : '<span class="muted">—</span>');

function stepList(run: RunView, names: (app: string) => string): string {
  if (!run.steps.length) return '<span class="muted">No app calls yet</span>';
  const items = run.steps.map((step) => `<li>${appName(step.app, names)} <code>${esc(step.action ?? '')}</code> — ${esc(step.outcome)}, ${credentialText(step.credential, true)}</li>`);
  return `<ol>${items.join('')}</ol>`;
}

export function runsPage(frame: PageFrame, runs: readonly RunView[], names: (app: string) => string): string {
  const rows = runs
    .map(
      (run) =>
        `<tr><th scope="row"><a href="/account/runs/${encodeURIComponent(run.runId)}">${esc(run.tool)}</a><br><code class="muted">${esc(run.runId)}</code></th><td>${time(run.createdAt)}</td><td>${runStatus(run)}</td><td>${stepList(run, names)}</td></tr>`,
    )
    .join('\n');
  const body = runs.length
    ? `<table><caption>Your most recent runs, newest first</caption>
<thead><tr><th scope="col">Tool and run</th><th scope="col">Started</th><th scope="col">Status</th><th scope="col">Steps: app, action, outcome, credential</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : '<p>You have not run any tool through Baton yet.</p>';
  return layout(frame, 'runs', 'Your runs', body);
}

export function runPage(frame: PageFrame, run: RunView, names: (app: string) => string): string {
  const steps = run.steps
    .map(
      (step, index) =>
        `<tr><th scope="row">${index + 1}</th><td>${time(step.at)}</td><td>${appName(step.app, names)}</td><td><code>${esc(step.action ?? '')}</code></td><td>${esc(step.outcome)}${step.message ? `<br><span class="muted">${esc(step.message)}</span>` : ''}</td><td>${credentialText(step.credential, true)}</td><td>${step.upstreamStatus ?? '—'}</td><td>${step.durationMs === null ? '—' : `${step.durationMs} ms`}</td><td>${step.runPath.length}</td></tr>`,
    )
    .join('\n');
  const stepsHtml = run.steps.length
    ? `<div class="scroll" role="region" aria-label="Steps" tabindex="0"><table><caption>Every app call of this run, at any depth, oldest first</caption>
<thead><tr><th scope="col">#</th><th scope="col">At</th><th scope="col">App</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Credential used</th><th scope="col">App answered</th><th scope="col">Took</th><th scope="col">Depth</th></tr></thead>
<tbody>
${steps}
</tbody></table></div>`
    : '<p>This run has not called any app yet.</p>';
  return layout(
    frame,
    'runs',
    `Run of ${run.tool}`,
    `<p><a href="/account/runs">← All your runs</a></p>
<dl><dt>Run</dt><dd><code>${esc(run.runId)}</code></dd><dt>Started</dt><dd>${time(run.createdAt)}</dd><dt>Status</dt><dd>${runStatus(run)}</dd></dl>
<h2>Steps</h2>
${stepsHtml}`,
  );
}

export interface AuditFilterForm {
  user: string;
  app: string;
  tool: string;
  outcome: string;
  since: string;
}

export function auditPage(
  frame: PageFrame,
  view: { everyone: boolean; filters: AuditFilterForm; records: readonly AuditRecord[]; limit: number; names: (app: string) => string },
  notice?: Notice,
): string {
  const field = (name: keyof AuditFilterForm, label: string, type = 'text', hint = '') =>
    `<div><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" type="${type}" value="${esc(view.filters[name])}"${hint ? ` placeholder="${esc(hint)}"` : ''}></div>`;
  const filters = `<form class="filters" method="get" action="/account/audit" role="search" aria-label="Filter the audit trail">
${view.everyone ? field('user', 'User', 'text', 'everyone') : ''}${field('app', 'App', 'text', 'github')}${field('tool', 'Tool')}${field('outcome', 'Outcome', 'text', 'ok, failed, …')}${field('since', 'Since (UTC date)', 'date')}
<div><button type="submit">Filter</button></div></form>`;
  const rows = view.records
    .map((record) => {
      const own = record.actor.subject === frame.user.subject;
      // The run's id is long: its last characters name it on the page, the whole id is its title.
      const short = record.rootRunId ? `<code class="nowrap" title="${esc(record.rootRunId)}">…${esc(record.rootRunId.slice(-8))}</code>` : '';
      const run = record.rootRunId
        ? own
          ? `<a href="/account/runs/${encodeURIComponent(record.rootRunId)}" aria-label="Run ${esc(record.rootRunId)}">${short}</a>`
          : short
        : '<span class="muted">—</span>';
      const who = view.everyone ? `<td>${esc(record.actor.subject)}${record.actor.email ? `<br><span class="muted">${esc(record.actor.email)}</span>` : ''}</td>` : '';
      return `<tr><th scope="row">${time(record.at)}</th>${who}<td><code class="nowrap">${esc(record.kind)}</code></td><td>${esc(record.tool ?? '')}</td><td>${appName(record.app, view.names)}${record.action ? ` <code>${esc(record.action)}</code>` : ''}</td><td>${esc(record.outcome)}</td><td>${record.credential ? credentialText(record.credential, own) : '<span class="muted">—</span>'}</td><td>${esc(record.message ?? '')}</td><td>${run}</td></tr>`;
    })
    .join('\n');
  const table = view.records.length
    ? `<div class="scroll" role="region" aria-label="Audit records" tabindex="0"><table><caption>${view.everyone ? 'Everyone’s records' : 'Your records'}, newest first (at most ${view.limit})</caption>
<thead><tr><th scope="col">When</th>${view.everyone ? '<th scope="col">Who</th>' : ''}<th scope="col">Event</th><th scope="col">Tool</th><th scope="col">App and action</th><th scope="col">Outcome</th><th scope="col">Credential</th><th scope="col">Message</th><th scope="col">Run</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>`
    : '<p>No records match.</p>';
  const intro = view.everyone
    ? '<p>You have an owner or admin role, so you see everyone’s records in your organisation. Leave “User” empty for everyone.</p>'
    : '<p>Everything Baton did as you: tool calls, each app call with the credential it used, consents and connections.</p>';
  return layout(frame, 'audit', view.everyone ? 'Audit trail' : 'Your audit trail', `${intro}\n${filters}\n${table}`, notice);
}

/** A page for a refused or failed account action (bad CSRF token, unknown run, …), still inside the frame when signed in. */
export function accountMessagePage(frame: PageFrame | null, title: string, message: string, back: { href: string; text: string }): string {
  const body = `<p>${esc(message)}</p><p><a href="${esc(back.href)}">${esc(back.text)}</a></p>`;
  if (frame) return layout(frame, null, title, body);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)} · Baton</title>
<style>${style}</style></head>
<body><main id="content"><h1>${esc(title)}</h1>${body}</main></body>
</html>`;
}
