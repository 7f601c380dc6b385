/**
 * Drives a sandbox app's sign-in and consent pages over plain HTTP, the way a person's browser would:
 * keeps cookies, submits the HTML forms it is shown, and stops at the redirect back to the client.
 * Tests use it wherever a real user would click "Authorize".
 */

interface HtmlForm {
  action: string;
  fields: Record<string, string>;
  /** name=value of every submit button, in order. */
  buttons: { name: string; value: string }[];
}

/** A minimal cookie-keeping HTTP client: one cookie jar, redirects never followed automatically. */
export class CookieKeepingClient {
  #cookies = new Map<string, string>();

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0) {
      headers.set('Cookie', [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const separator = pair!.indexOf('=');
      if (separator > 0) this.#cookies.set(pair!.slice(0, separator).trim(), pair!.slice(separator + 1).trim());
    }
    return response;
  }

  async submit(pageUrl: string | URL, form: HtmlForm, extra: Record<string, string>): Promise<Response> {
    return this.fetch(new URL(form.action || String(pageUrl), pageUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, ...extra }).toString(),
    });
  }
}

/**
 * Opens `authorizeUrl`, signs in as `user` if asked to, answers the consent page with `decision`, and
 * returns the URL the app redirects to (carrying `code` and `state`, or `error=access_denied`), without
 * following it.
 */
export async function approveConsentOverHttp(
  authorizeUrl: string,
  user: { username: string; password: string },
  decision: 'approve' | 'deny',
  client: CookieKeepingClient = new CookieKeepingClient(),
): Promise<URL> {
  let pageUrl = new URL(authorizeUrl);
  let response = await client.fetch(pageUrl);
  let signedIn = false;
  for (let step = 0; step < 10; step += 1) {
    if (isRedirect(response.status)) {
      // Redirects inside the flow (to the sign-in page and back) are followed; the consent answer's is returned.
      pageUrl = new URL(response.headers.get('location')!, pageUrl);
      response = await client.fetch(pageUrl);
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`Unexpected ${response.status} from ${pageUrl.href}: ${summarise(html)}`);
    const forms = parseForms(html);
    const consent = forms.find((form) => form.buttons.some((button) => button.name === 'decision'));
    if (consent) {
      const answer = await client.submit(pageUrl, consent, { decision });
      const location = answer.headers.get('location');
      if (!isRedirect(answer.status) || !location) {
        throw new Error(`Consent answer was not redirected (${answer.status}): ${summarise(await answer.text())}`);
      }
      return new URL(location, pageUrl);
    }
    const signIn = forms.find((form) => 'password' in form.fields);
    if (signIn && !signedIn) {
      signedIn = true;
      response = await client.submit(pageUrl, signIn, { username: user.username, password: user.password });
      if (response.status === 401) throw new Error(`Sign-in as ${user.username} was refused`);
      continue;
    }
    throw new Error(`No sign-in or consent form at ${pageUrl.href}: ${summarise(html)}`);
  }
  throw new Error(`Too many steps authorizing at ${authorizeUrl}`);
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

function summarise(html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Good enough for the sandbox's own pages: double-quoted attributes, inputs and buttons inside forms. */
function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const [, formAttributes, content] of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const form: HtmlForm = { action: attributesOf(formAttributes!).action ?? '', fields: {}, buttons: [] };
    for (const [, inputAttributes] of content!.matchAll(/<input\b([^>]*)>/gi)) {
      const input = attributesOf(inputAttributes!);
      if (input.name) form.fields[input.name] = input.value ?? '';
    }
    for (const [, buttonAttributes] of content!.matchAll(/<button\b([^>]*)>/gi)) {
      const button = attributesOf(buttonAttributes!);
      if (button.name) form.buttons.push({ name: button.name, value: button.value ?? '' });
    }
    forms.push(form);
  }
  return forms;
}

function attributesOf(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [, name, value] of source.matchAll(/([\w-]+)\s*=\s*"([^"]*)"/g)) attributes[name!.toLowerCase()] = decodeEntities(value!);
  return attributes;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos);/gi, (entity, code: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (code[0] !== '#') return named[code.toLowerCase()] ?? entity;
    return String.fromCodePoint(code[1]?.toLowerCase() === 'x' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10));
  });
}
