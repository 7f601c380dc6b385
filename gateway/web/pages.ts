/** Every value Baton puts in HTML goes through this: text and attribute values alike. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const escape = escapeHtml;

/**
 * A plain, accessible page: one heading, one message (and optional links onward, e.g. to the user's
 * connections), nothing that needs JavaScript. Never given a secret to render; every value is escaped.
 */
export function page(title: string, message: string, links: readonly { href: string; text: string }[] = []): string {
  const onward = links.length ? `<p>${links.map((link) => `<a href="${escape(link.href)}">${escape(link.text)}</a>`).join(' · ')}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Baton</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}h1{font-size:1.4rem}</style></head>
<body><main><h1>${escape(title)}</h1><p>${escape(message)}</p>${onward}</main></body>
</html>`;
}

/** A one-field form page (a personal API key), posted back with its CSRF token; the value is never echoed. */
export function secretFormPage(page: { title: string; message: string; action: string; label: string; csrf: string; error?: string }): string {
  const error = page.error ? `<p role="alert"><strong>${escape(page.error)}</strong></p>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(page.title)} · Baton</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}h1{font-size:1.4rem}input{font:inherit;width:100%;padding:.4rem}button{font:inherit;margin-top:1rem;padding:.4rem 1rem}</style></head>
<body><main><h1>${escape(page.title)}</h1><p>${escape(page.message)}</p>${error}
<form method="post" action="${escape(page.action)}"><input type="hidden" name="csrf" value="${escape(page.csrf)}">
<label for="secret">${escape(page.label)}</label><input id="secret" name="secret" type="password" autocomplete="off" required>
<button type="submit">Save</button></form></main></body>
</html>`;
}
