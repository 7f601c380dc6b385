/**
 * Drives a sandbox app's or the sandbox identity provider's sign-in and consent pages over plain HTTP,
 * the way a person's browser would: keeps cookies, submits the HTML forms it is shown, and stops at the
 * redirect back to the client. Tests use it wherever a real user would click "Authorize".
 */

export interface HtmlForm {
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
      const [pair, ...attributes] = cookie.split(';');
      const separator = pair!.indexOf('=');
      if (separator <= 0) continue;
      const name = pair!.slice(0, separator).trim();
      // A cookie set to expire is the server clearing it (oidc-provider does so after each step).
      if (attributes.some(isExpiry)) this.#cookies.delete(name);
      else this.#cookies.set(name, pair!.slice(separator + 1).trim());
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
 * returns the URL the authorization server finally redirects to (carrying `code` and `state`, or
 * `error=access_denied`), without following it.
 *
 * The same walk fits the sandbox apps and the sandbox identity provider (same form field names), and
 * also a start page that first redirects to either, such as Baton's own `/connect/...` or sign-in page.
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
  let answered = false;
  for (let step = 0; step < 20; step += 1) {
    if (isRedirect(response.status)) {
      const target = new URL(response.headers.get('location')!, pageUrl);
      // Redirects inside the flow (to the sign-in page and back, oidc-provider's resume step after
      // consent) are followed; the one carrying the authorization response is returned.
      if (isAuthorizationResponse(target)) {
        if (decision === 'deny' && !answered && target.searchParams.has('code')) {
          throw new Error(`Access was granted without a consent page to deny at ${pageUrl.href}`);
        }
        return target;
      }
      pageUrl = target;
      response = await client.fetch(pageUrl);
      continue;
    }
    const html = await response.text();
    if (answered) throw new Error(`Consent answer was not redirected (${response.status}): ${summarise(html)}`);
    if (response.status !== 200) throw new Error(`Unexpected ${response.status} from ${pageUrl.href}: ${summarise(html)}`);
    const forms = parseForms(html);
    const consent = forms.find((form) => form.buttons.some((button) => button.name === 'decision'));
    if (consent) {
      answered = true;
      response = await client.submit(pageUrl, consent, { decision });
      continue;
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

/** Where an authorization server sends the browser back to the client (RFC 6749 §4.1.2, §4.1.2.1). */
function isAuthorizationResponse(url: URL): boolean {
  return url.searchParams.has('code') || url.searchParams.has('error');
}

function isExpiry(attribute: string): boolean {
  const [name = '', value = ''] = attribute.split('=').map((part) => part.trim());
  if (name.toLowerCase() === 'max-age') return Number(value) <= 0;
  if (name.toLowerCase() === 'expires') return Date.parse(value) <= Date.now();
  return false;
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

function summarise(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** Good enough for the sandbox's own pages: double-quoted attributes, inputs and buttons inside forms. */
export function parseForms(html: string): HtmlForm[] {
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

/**
 * What an end user does with Baton's consent link, over plain HTTP as a browser would: open the link, sign in
 * at the identity provider if asked, approve (or deny) at the app, and land on Baton's result page, whose
 * status and text are returned. `batonUrl` is the gateway's origin, `idpIssuer` the sandbox identity provider's.
 */
export async function followConsentLink(
  link: string,
  {
    batonUrl,
    idpIssuer,
    user,
    decision = 'approve',
    browser = new CookieKeepingClient(),
  }: { batonUrl: string; idpIssuer: string; user: string; decision?: 'approve' | 'deny'; browser?: CookieKeepingClient },
): Promise<{ status: number; text: string }> {
  const credentials = { username: user, password: user };
  let target = new URL(link);
  for (let hop = 0; hop < 6; hop += 1) {
    const response = await browser.fetch(target);
    const location = response.headers.get('location');
    if (!location) return { status: response.status, text: await response.text() };
    const next = new URL(location, target);
    if (next.origin === new URL(batonUrl).origin) {
      target = next;
      continue;
    }
    // Off to the identity provider or the app: walk its pages; it hands back a URL on Baton.
    target = await approveConsentOverHttp(next.href, credentials, next.href.startsWith(idpIssuer) ? 'approve' : decision, browser);
  }
  throw new Error(`Too many redirects following ${link}`);
}
