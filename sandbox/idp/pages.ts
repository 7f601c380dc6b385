import { escapeHtml, layout } from '../pages.ts';

/**
 * The identity provider's interaction pages: plain HTML forms, no script, with the same field names as
 * the sandbox apps' pages (`username`, `password`, a `decision` button of `approve` or `deny`), so one
 * browserless walker (`approveConsentOverHttp`) can drive both.
 */

/** The identity provider's own name; another provider built from the same pieces (the notes upstream's) passes its own. */
const defaultProviderName = 'Sandbox ID';

export function idpSignInPage(page: { action: string; clientName: string; username?: string; error?: string; providerName?: string }): string {
  const providerName = page.providerName ?? defaultProviderName;
  const error = page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : '';
  return layout(
    `Sign in to ${providerName}`,
    `<h1>Sign in to ${providerName}</h1>
<p>to continue to <strong>${escapeHtml(page.clientName)}</strong></p>
${error}<form method="post" action="${escapeHtml(page.action)}">
<label>Username <input type="text" name="username" autocomplete="username" value="${escapeHtml(page.username ?? '')}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function idpConsentPage(page: { action: string; user: string; clientName: string; scopes: string[]; resources: string[]; providerName?: string }): string {
  const providerName = page.providerName ?? defaultProviderName;
  const list = (items: string[], empty: string) => (items.length ? `<ul>${items.map((item) => `<li><code>${escapeHtml(item)}</code></li>`).join('')}</ul>` : `<p>${empty}</p>`);
  return layout(
    `Authorize ${page.clientName}`,
    `<p>Signed in to ${providerName} as ${escapeHtml(page.user)}</p>
<h1>Authorize <code>${escapeHtml(page.clientName)}</code></h1>
<p>It asks for these scopes:</p>
${list(page.scopes, 'No scopes requested.')}
<p>to use at:</p>
${list(page.resources, 'No particular resource.')}
<form method="post" action="${escapeHtml(page.action)}">
<button type="submit" name="decision" value="approve">Authorize</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>`,
  );
}

export function idpErrorPage(page: { title: string; message: string }): string {
  return layout(page.title, `<h1>${escapeHtml(page.title)}</h1>\n<p class="error">${escapeHtml(page.message)}</p>`);
}
