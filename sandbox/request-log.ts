import type { Request, RequestHandler, Response } from 'express';
import { readAuthorization, type CredentialKind, type CredentialScheme } from './credentials.ts';

/** The apps, and the two upstream MCP servers (sandbox/upstreams/): `notes` also names its authorization server's token endpoint. */
export type AppName = 'github' | 'slack' | 'jira' | 'crm' | 'helpdesk' | 'notes' | 'status';

export interface LoggedCredential {
  /** The `Authorization` header's scheme; `none` also when the credential travelled elsewhere (an API key). */
  scheme: CredentialScheme;
  /**
   * The raw token or API key, or the Basic user name. At the token and revocation endpoints it is the
   * client id the client authenticated as (whether by Basic or by client_secret_post).
   */
  presented: string | null;
  /**
   * Who the credential belongs to, null when it was not valid: a demo user name, "service-account" for
   * Jira's, and for the CRM's non-person credentials `client:<id>`, `org:acme`, `integration` or
   * `service:<username>` (what the CRM's /api/v1/me calls the subject).
   * At the token endpoint: the owner of the grant the code or refresh token was exchanged for; at the
   * revocation endpoint: the owner of the revoked token.
   * The notes MCP server names the user of any genuine token of its authorization server, also when it
   * refuses it (expired, revoked grant, challenge mode: `valid` is then false); the status MCP server
   * names `api-key` for its shared key.
   */
  user: string | null;
  /** Whether the credential was accepted; at the token endpoint, whether the exchange succeeded. */
  valid: boolean;
  /** CRM API and the status MCP server only: how the credential was recognised. */
  kind?: CredentialKind;
  /**
   * CRM API and the upstream MCP servers only, on refusals: why (the CRM's 401 `error` code, e.g.
   * `token_expired`, `invalid_api_key`; the notes server's reasons are listed in sandbox/upstreams/notes-tokens.ts).
   */
  refusal?: string;
}

export interface LoggedRequest {
  seq: number;
  at: string;
  app: AppName;
  method: string;
  /** The path as the real service would see it, e.g. "/chat.postMessage" or "/login/oauth/access_token". */
  path: string;
  /** The query parameters; a repeated name lists every value. */
  query: Record<string, string | string[]>;
  /**
   * Every request header as received, names lower-cased (repeats joined with ", " as Node does), so a
   * test can check which headers a caller added or failed to strip: credentials included, since this
   * log exists to compare exact values.
   */
  headers: Record<string, string>;
  credential: LoggedCredential;
  grantType?: string;
  idempotencyKey: string | null;
  replayed: boolean;
  status: number;
}

/** Every request that reached the stand-in apps, in arrival-of-response order. */
export class RequestLog {
  #entries: LoggedRequest[] = [];
  #lastSeq = 0;

  add(entry: Omit<LoggedRequest, 'seq'>): void {
    this.#lastSeq += 1;
    this.#entries.push({ seq: this.#lastSeq, ...entry });
  }

  /** Entries of one app (or all) with a sequence number above `since`. */
  list(filter: { app?: string; since?: number } = {}): LoggedRequest[] {
    return this.#entries.filter((entry) => (!filter.app || entry.app === filter.app) && entry.seq > (filter.since ?? 0));
  }

  /** Forgets the entries; sequence numbers keep growing so a saved `since` stays meaningful. */
  clear(): void {
    this.#entries = [];
  }
}

/** What the handlers learn about a request that the log needs, kept on res.locals. */
interface RequestNotes {
  credential?: LoggedCredential;
  grantType?: string;
  replayed?: boolean;
}

function notesOf(res: Response): RequestNotes {
  res.locals.sandboxNotes ??= {};
  return res.locals.sandboxNotes as RequestNotes;
}

export function noteCredential(res: Response, credential: LoggedCredential): void {
  notesOf(res).credential = credential;
}

export function noteGrantType(res: Response, grantType: string): void {
  notesOf(res).grantType = grantType;
}

export function noteReplayed(res: Response): void {
  notesOf(res).replayed = true;
}

/** The request's path below `base`, the prefix under which the sandbox mounts the real service's root. */
export function pathWithin(req: Request, base: string): string {
  const path = req.originalUrl.split('?')[0]!;
  return path.startsWith(base) ? path.slice(base.length) || '/' : path;
}

function queryOf(req: Request): Record<string, string | string[]> {
  const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
  const query: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    query[name] = values.length === 1 ? values[0]! : values;
  }
  return query;
}

function headersOf(req: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * Logs the request once its response is produced (when `res.end` is called), so the entry carries the
 * final status even if the client has already gone away.
 */
export function logRequests(log: RequestLog, app: AppName, base: string): RequestHandler {
  return (req, res, next) => {
    const end = res.end.bind(res);
    let logged = false;
    res.end = function (this: Response, ...args: unknown[]) {
      if (!logged) {
        logged = true;
        const notes = notesOf(res);
        const header = readAuthorization(req.get('authorization'));
        log.add({
          at: new Date().toISOString(),
          app,
          method: req.method,
          path: pathWithin(req, base),
          query: queryOf(req),
          headers: headersOf(req),
          credential: notes.credential ?? { scheme: header.scheme, presented: header.value, user: null, valid: false },
          ...(notes.grantType === undefined ? {} : { grantType: notes.grantType }),
          idempotencyKey: req.get('idempotency-key') ?? null,
          replayed: notes.replayed ?? false,
          status: res.statusCode,
        });
      }
      return (end as (...endArgs: unknown[]) => Response).apply(this, args);
    } as Response['end'];
    next();
  };
}
