/** The HTML a person (or the browserless test helper) sees while authorizing an app. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The page frame every sandbox page (the apps' and the identity provider's) shares. */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.5rem 0}.error{color:#b00020}button{margin-right:.5rem}</style></head>
<body>
${body}
</body>
</html>
`;
}

export function signInPage(page: { appName: string; action: string; returnTo: string; username?: string; error?: string }): string {
  const error = page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : '';
  return layout(
    `Sign in to ${page.appName}`,
    `<h1>Sign in to ${escapeHtml(page.appName)}</h1>
${error}<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="return_to" value="${escapeHtml(page.returnTo)}">
<label>Username <input type="text" name="username" autocomplete="username" value="${escapeHtml(page.username ?? '')}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function consentPage(page: { appName: string; user: string; clientId: string; scopes: string[]; redirectUri: string; action: string; transaction: string }): string {
  const scopes = page.scopes.length ? `<ul>${page.scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('')}</ul>` : '<p>No scopes requested.</p>';
  return layout(
    `Authorize ${page.clientId}`,
    `<p>Signed in to ${escapeHtml(page.appName)} as ${escapeHtml(page.user)}</p>
<h1>Authorize application <code>${escapeHtml(page.clientId)}</code></h1>
<p>It asks for these scopes:</p>
${scopes}
<p>You will be sent back to <code>${escapeHtml(page.redirectUri)}</code>.</p>
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="transaction" value="${escapeHtml(page.transaction)}">
<button type="submit" name="decision" value="approve">Authorize</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>`,
  );
}

export function signedInPage(page: { appName: string; user: string }): string {
  return layout(`${page.appName}`, `<p>Signed in to ${escapeHtml(page.appName)} as ${escapeHtml(page.user)}</p>`);
}

export function errorPage(page: { appName: string; title: string; message: string }): string {
  return layout(
    page.title,
    `<h1>${escapeHtml(page.title)}</h1>
<p class="error">${escapeHtml(page.message)}</p>
<p>${escapeHtml(page.appName)} did not send you back to the application.</p>`,
  );
}
