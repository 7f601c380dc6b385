import type { z } from 'zod';
import type { CredentialConfig } from '../core/config/file/schema.ts';

/**
 * How an app call is authorised. `user_oauth`: the calling user's own connection (authorization code +
 * PKCE). `service_account`: one credential the organisation configured for the app. The others come from
 * the configuration file (see core/config/file/schema.ts).
 */
export type CredentialMode = 'user_oauth' | 'service_account' | 'client_credentials' | 'api_key' | 'bearer' | 'basic' | 'none' | 'passthrough' | 'token_exchange';

/** One HTTP request to the app's API, with the path of the real API (relative to the API base URL). */
export interface AppRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  /** Headers the action itself sends (a declared action's input mapped to headers); the credential's always win. */
  headers?: Record<string, string>;
  body?: unknown;
}

/** What the app answered, after the connector read the app's own way of reporting errors. */
export type AppAnswer<Result> = { kind: 'ok'; result: Result; objectRef?: string } | { kind: 'credential_rejected'; message: string } | { kind: 'failed'; message: string; retryable: boolean };

export interface AppAction<Input extends z.ZodType = z.ZodType, Result = unknown> {
  description: string;
  input: Input;
  toRequest(input: z.infer<Input>): AppRequest;
  readAnswer(status: number, body: unknown): AppAnswer<Result>;
}

/** The app's OAuth 2.1 authorization server, as far as a connector knows it (URLs come from configuration). */
export interface OAuthProfile {
  defaultScopes: string[];
  /** Scope separator the app's authorize endpoint expects (Slack uses commas). */
  scopeSeparator: ' ' | ',';
  /**
   * Asks the app who the token belongs to, so the vault records the external account. Absent for an
   * upstream MCP server (MCP has no who-am-I): the connection is labelled with the Baton user instead.
   */
  whoAmI?: AppAction<z.ZodObject<{}>, ExternalAccount>;
  /** How the app revokes a user's token when they disconnect it; absent when the app has no revocation API. */
  revoke?: TokenRevocation;
}

/** A fully built request to an app's token revocation endpoint (the URL comes from the configured endpoints). */
export interface RevocationRequest {
  method: 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface RevocationInput {
  endpoints: AppEndpoints;
  /** Baton's OAuth client at the app, when configured. */
  client?: { clientId: string; clientSecret: string };
  accessToken: string;
  refreshToken?: string;
}

/**
 * The app's own way of revoking a user's token (GitHub: DELETE /applications/{client_id}/token; Slack:
 * auth.revoke; RFC 7009 elsewhere), so the same code works against the real service and the sandbox.
 */
export interface TokenRevocation {
  /** The request to send, or why it cannot be sent (e.g. no revocation URL or OAuth client configured). */
  toRequest(input: RevocationInput): RevocationRequest | { unavailable: string };
  /** Whether the app confirmed the revocation; `message` never contains a token. */
  readAnswer(status: number, body: unknown): { ok: true } | { ok: false; message: string };
}

export interface ExternalAccount {
  id: string;
  login: string;
}

/** How a service-account credential is presented to the app. */
export type ServiceAuthScheme = 'basic' | 'bearer';

export interface AppConnector {
  id: string;
  displayName: string;
  /** The real service's endpoints; configuration may point elsewhere (the sandbox, GitHub Enterprise). */
  defaultEndpoints: AppEndpoints;
  /**
   * Where the app lives inside Baton's local sandbox (see sandbox/), used instead of `defaultEndpoints` when
   * BATON_SANDBOX_URL is set; an app without a stand-in there keeps its default endpoints.
   */
  sandboxEndpoints?: (sandboxUrl: string) => AppEndpoints;
  defaultMode: CredentialMode;
  oauth?: OAuthProfile;
  serviceAuth?: ServiceAuthScheme;
  actions: Record<string, AppAction>;
  /** Set for an upstream MCP server (`mcpServers` in baton.yaml): its tools are called over MCP, not as actions. */
  upstream?: UpstreamMcpServer;
  /** Set for an app declared from an OpenAPI document (`apps.<id>.openapi`): where its actions come from. */
  openapi?: DeclaredOpenApi;
}

/** An app's OpenAPI document as the configuration declares it (`document` a file path or a resolved URL). */
export interface DeclaredOpenApi {
  document: string;
  operations?: readonly string[];
  allowRemoteRefs: boolean;
  objectRef?: string;
}

/** An upstream MCP server as the configuration declares it (secrets still references). */
export interface UpstreamMcpServer {
  /** The Streamable HTTP endpoint, also the OAuth resource its tokens are bound to. */
  url: string;
  /** Which of its tools Baton exposes ('*' or the upstream's own names). */
  tools: '*' | readonly string[];
  timeoutMs: number;
  maxResultBytes: number;
  /** Which MCP era Baton speaks to it: `auto` (2026-07-28 when offered, else 2025) or `legacy` (always 2025). */
  protocol: 'auto' | 'legacy';
  toolsCacheMs: number;
  /** A pre-registered OAuth client's endpoints; without them Baton discovers the authorization server. */
  authorizationUrl?: string;
  tokenUrl?: string;
  /** The organisation's credential for listing its tools (`mcpServers.<id>.toolsCredential`), secrets still references. */
  toolsCredential?: CredentialConfig;
  /** A pre-registered OAuth client (`mcpServers.<id>.oauth`); a public client has no secret. */
  client?: { clientId: string; clientSecret?: string };
}

/** Where an app lives. Defaults point at the real service; the sandbox overrides them. */
export interface AppEndpoints {
  apiBaseUrl: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  revokeUrl?: string;
}
