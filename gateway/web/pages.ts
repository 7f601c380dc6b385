const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A plain, accessible page: one heading, one message, nothing that needs JavaScript. Never given a
 * secret to render; every value is escaped.
 */
export function page(title: string, message: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Baton</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}h1{font-size:1.4rem}</style></head>
<body><main><h1>${escape(title)}</h1><p>${escape(message)}</p></main></body>
</html>`;
}
