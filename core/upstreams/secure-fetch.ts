import { UpstreamError } from './errors.ts';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https anywhere; plain http only on loopback (the local sandbox, a developer's machine). */
export function isSecureOrLoopback(address: string | URL): boolean {
  const url = new URL(address);
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname));
}

/** Refuses an endpoint an upstream advertises on plain HTTP outside loopback, naming what advertised it. */
export function requireSecure(address: string | URL, what: string): void {
  if (!isSecureOrLoopback(address)) {
    throw new UpstreamError('insecure_endpoint', `${what} (${String(address)}) is plain HTTP on a non-loopback host; Baton only sends credentials over https.`);
  }
}

/**
 * `fetch` for OAuth discovery and token requests with an upstream: never follows a redirect to another
 * origin (an upstream must not steer Baton's requests elsewhere) and refuses plain HTTP outside loopback.
 *
 * @example
 * const fetchFn = sameOriginFetch();
 * await fetchFn('https://notes.example/.well-known/oauth-protected-resource/mcp');
 */
export function sameOriginFetch(timeoutMs = 10_000): typeof fetch {
  return async (input, init) => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    for (let hops = 0; hops < 5; hops++) {
      requireSecure(url, 'An OAuth endpoint');
      const response = await fetch(url, { ...init, redirect: 'manual', signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
      const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
      if (!location) return response;
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        throw new UpstreamError('foreign_endpoint', `${url.origin} redirected Baton's OAuth request to another origin (${next.origin}); refused.`);
      }
      url = next;
    }
    throw new UpstreamError('discovery_failed', `Too many redirects from ${url.origin}.`);
  };
}
