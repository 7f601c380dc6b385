import { z } from 'zod';
import { secretRef } from './secret-ref.ts';

/**
 * The shape of Baton's declarative configuration (`baton.yaml`). Every secret is a reference
 * (`env:`, `file:`, `vault:`); `.strict()` everywhere so a misspelt key is an error, not a silent default.
 */

const name = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'use lower-case letters, digits, "_" and "-"');
const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** How an app call is authorized: one mode per app, overridable per tool. */
export const credentialSchema = z.discriminatedUnion(
  'mode',
  [
    z.object({ mode: z.literal('user_oauth') }).strict(),
    z.object({ mode: z.literal('service_account'), reason: z.string().optional() }).strict(),
    z.object({ mode: z.literal('client_credentials'), tokenUrl: url.optional(), clientId: secretRef, clientSecret: secretRef, scopes: z.array(z.string()).default([]) }).strict(),
    z
      .object({
        mode: z.literal('api_key'),
        in: z.enum(['header', 'query']).default('header'),
        name: z.string().min(1),
        scope: z.enum(['shared', 'individual']),
        key: secretRef.optional(),
      })
      .strict()
      .refine((c) => c.scope === 'individual' || c.key !== undefined, { message: 'a shared API key needs "key" (a secret reference)', path: ['key'] }),
    z.object({ mode: z.literal('bearer'), token: secretRef }).strict(),
    z.object({ mode: z.literal('basic'), username: secretRef, password: secretRef }).strict(),
    z.object({ mode: z.literal('none') }).strict(),
    z
      .object({
        mode: z.literal('passthrough'),
        // "unverified": tokens of callers a passthrough server did not validate (explicit, never implied).
        trustedIssuers: z.array(z.union([url, z.literal('unverified')], { error: 'must be an issuer URL, or "unverified"' })).min(1, 'name the issuers whose tokens this app trusts'),
        /** Forward only tokens issued for this audience (the app's own); a token for Baton itself is never forwarded. */
        audience: z.string().min(1).optional(),
      })
      .strict(),
    z
      .object({
        mode: z.literal('token_exchange'),
        tokenUrl: url,
        clientId: secretRef,
        clientSecret: secretRef,
        resource: url.optional(),
        audience: z.string().optional(),
        scopes: z.array(z.string()).default([]),
      })
      .strict(),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? 'unknown credential mode: use user_oauth, service_account, client_credentials, api_key, bearer, basic, none, passthrough or token_exchange' : undefined,
  },
);

/** Headers added to an app's requests on top of its credential. */
export const extraHeaderSchema = z.discriminatedUnion('from', [
  z.object({ name: z.string().min(1), from: z.literal('caller_token'), prefix: z.string().default('') }).strict(),
  z
    .object({
      name: z.string().min(1),
      from: z.literal('service_token'),
      tokenUrl: url,
      clientId: secretRef,
      clientSecret: secretRef,
      scopes: z.array(z.string()).default([]),
      prefix: z.string().default('Bearer '),
    })
    .strict(),
  z.object({ name: z.string().min(1), from: z.literal('vault'), credential: z.string().min(1), perUser: z.boolean().default(false), prefix: z.string().default('') }).strict(),
  z.object({ name: z.string().min(1), from: z.literal('caller_identity'), field: z.enum(['subject', 'email']) }).strict(),
  z.object({ name: z.string().min(1), from: z.literal('static'), value: z.string() }).strict(),
]);

/** A URL, or `env:NAME` for one that differs per deployment (the sandbox's port, say). */
const urlOrEnv = z.union([url, z.string().regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/)], { error: 'must be an http(s) URL or env:NAME' });

const roleName = z.enum(['owner', 'admin', 'contributor', 'viewer', 'execute_only']);
export type RoleName = z.infer<typeof roleName>;

export const appSchema = z
  .object({
    /** The API base URL, e.g. GitHub Enterprise's; defaults to the real service (or the sandbox). */
    baseUrl: url.optional(),
    oauth: z
      .object({
        authorizeUrl: urlOrEnv.optional(),
        tokenUrl: urlOrEnv.optional(),
        revokeUrl: urlOrEnv.optional(),
        clientId: secretRef,
        clientSecret: secretRef,
        scopes: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    credential: credentialSchema,
    /**
     * An app without a connector: its actions are the operations of this OpenAPI 3.x document (a file relative
     * to this one, or an http(s) URL), checked and built when the gateway and worker start (apps/openapi/).
     */
    openapi: z
      .object({
        document: z.string().min(1),
        displayName: z.string().min(1).optional(),
        /** Only these operations (by operationId, else method_path) become actions. */
        operations: z.array(z.string().min(1)).min(1).optional(),
        /** `$ref`s to other servers are refused unless this is true. */
        allowRemoteRefs: z.boolean().default(false),
        /** The result field naming the object an operation created, for the audit trail. */
        objectRef: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** An app without a connector or document: its HTTP actions declared here (apps/declared/); needs `baseUrl`. */
    http: z
      .object({
        displayName: z.string().min(1).optional(),
        actions: z
          .record(
            z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/, 'an action name: a letter, then letters, digits, "_" or "."'),
            z
              .object({
                method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
                path: z.string().startsWith('/', 'a path relative to baseUrl, starting with "/"'),
                description: z.string().optional(),
                input: z.record(z.string(), z.unknown()).optional(),
                query: z.array(z.string().min(1)).optional(),
                /** Input fields sent as request headers: field → header name. */
                headers: z.record(z.string().min(1), z.string().min(1)).optional(),
                objectRef: z.string().min(1).optional(),
              })
              .strict(),
          )
          .refine((actions) => Object.keys(actions).length > 0, 'declare at least one action'),
        errors: z
          .object({ okField: z.string().min(1).optional(), messageField: z.string().min(1).optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    /** Its actions as MCP tools `<app>__<action>` (each a one-step run as the caller): all (`true`) or these. */
    expose: z.union([z.literal(true), z.array(z.string().min(1)).min(1)]).optional(),
    headers: z.array(extraHeaderSchema).default([]),
    /** Lets a client override this app's credential per call with the X-Baton-Forward-Headers header. */
    allowHeaderOverride: z.boolean().default(false),
  })
  .strict();

/** What is wrong with an upstream MCP server's id (the prefix of its tools' names: `notes` → `notes__create_note`), if anything. */
function upstreamIdProblem(id: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return 'use letters, digits, "_" or "-"';
  if (id.includes('__') || id.endsWith('_')) return 'must not contain "__" or end with "_": "__" separates the id from the tool name';
  return undefined;
}

/** Which upstream tools Baton exposes: every one, or the listed names (the upstream's own names). */
const upstreamToolFilter = z.union([z.literal('*'), z.array(z.string().min(1)).min(1)]);

export const mcpServerSchema = z
  .object({
    /** The upstream's Streamable HTTP endpoint. */
    url: urlOrEnv,
    /** As shown on the connections page and in consent prompts; defaults to the id. */
    displayName: z.string().min(1).optional(),
    credential: credentialSchema,
    /**
     * The organisation's credential Baton lists the upstream's tools with, when `credential` is each user's
     * own: then every user sees the tools before connecting. Without it, the list comes with the first
     * connected user's token.
     */
    toolsCredential: credentialSchema
      .refine((credential) => ['none', 'bearer', 'basic', 'api_key', 'client_credentials'].includes(credential.mode) && !(credential.mode === 'api_key' && credential.scope === 'individual'), {
        message: "must be the organisation's own: none, bearer, basic, a shared api_key or client_credentials",
      })
      .optional(),
    /**
     * A pre-registered OAuth client at the upstream's authorization server (user_oauth). Without it Baton
     * discovers the authorization server from the upstream and registers itself (client ID metadata
     * document, else dynamic client registration).
     */
    oauth: z
      .object({ clientId: secretRef, clientSecret: secretRef.optional(), scopes: z.array(z.string()).optional(), authorizationUrl: url.optional(), tokenUrl: url.optional() })
      .strict()
      .optional(),
    headers: z.array(extraHeaderSchema).default([]),
    tools: upstreamToolFilter.default('*'),
    /** `auto`: 2026-07-28 when the upstream offers it, else the 2025 handshake; `legacy`: always the 2025 handshake. */
    protocol: z.enum(['auto', 'legacy']).default('auto'),
    /** How long one upstream request may take. */
    timeoutSeconds: z.number().positive().max(600).default(30),
    /** The largest tool result Baton passes on (bytes of JSON); larger answers fail with a clear error. */
    maxResultBytes: z
      .number()
      .int()
      .positive()
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** How long a fetched tool list is used before it is fetched again (a list_changed notification refreshes it sooner). */
    toolsCacheSeconds: z.number().int().positive().default(300),
  })
  .strict();

export const accessSchema = z
  .object({
    users: z.array(z.string().min(1)).default([]),
    groups: z.array(z.string().min(1)).default([]),
    apiTokens: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** How a server's callers authenticate: Baton's own OAuth resource server (default), or passthrough. */
export const serverAuthSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('oauth') }).strict(),
  z
    .object({
      mode: z.literal('passthrough'),
      /**
       * When set, a caller must send a JWT these keys verify, from this issuer, for this audience: without both,
       * any token the keys ever signed (for any audience, naming any issuer and subject) would be accepted.
       */
      jwt: z
        .object({
          jwksUrl: url.optional(),
          jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
          issuer: z.string({ error: 'required: the issuer whose tokens this server accepts (any issuer the keys sign for would do otherwise)' }).min(1),
          audience: z.string({ error: 'required: the audience the tokens must be issued for (a token for any other service would do otherwise)' }).min(1),
        })
        .strict()
        .refine((jwt) => (jwt.jwksUrl === undefined) !== (jwt.jwks === undefined), { message: 'give exactly one of jwksUrl and jwks', path: ['jwksUrl'] })
        .optional(),
    })
    .strict(),
]);

/** A tool name as MCP allows it, or `<upstream>__*` for every tool of an upstream MCP server. */
const toolRef = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$|^[A-Za-z0-9_-]{1,64}__\*$/, 'use a tool name, "<upstream>__*", or "*" for the whole list');

export const serverSchema = z
  .object({
    description: z.string().optional(),
    auth: serverAuthSchema.default({ mode: 'oauth' }),
    /** Tool names (an upstream's as `notes__create_note`, or all of them as `notes__*`), or "*" for every tool. */
    tools: z.union([z.literal('*'), z.array(toolRef).min(1)]),
    access: accessSchema,
  })
  .strict();

export const toolSchema = z
  .object({
    /** Per-tool credential overrides, by app. */
    credentials: z.record(name, credentialSchema).default({}),
    /** Narrows who may run this tool, on top of the server's list. */
    access: accessSchema.optional(),
  })
  .strict();

/** An identity provider whose bearer tokens Baton accepts, besides the one in BATON_IDP_ISSUER. */
export const identityProviderSchema = z
  .object({
    issuer: url,
    /** Its signing keys: a JWKS URL, or the keys inline (public keys only). */
    jwksUrl: url.optional(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
    /** Which claims carry the tenant and the groups (names differ between providers). */
    tenantClaim: z.string().min(1).default('tenant'),
    groupsClaim: z.string().min(1).default('groups'),
    defaultTenant: z.string().min(1).optional(),
    /**
     * This provider's tenant and group names that are Baton's own: `{ <its name>: <Baton's> }`. Any other
     * tenant or group it asserts is its own, `<issuer>#<name>`, so it can never claim the home provider's.
     */
    tenantMap: z.record(z.string(), z.string().min(1)).default({}),
    groupMap: z.record(z.string(), z.string().min(1)).default({}),
  })
  .strict()
  .refine((idp) => (idp.jwksUrl === undefined) !== (idp.jwks === undefined), { message: 'give exactly one of jwksUrl and jwks', path: ['jwksUrl'] });

/** A secret reference Baton reads itself at start (`env:` or `file:`); the vault is not open yet when Temporal is dialled. */
const startupSecretRef = secretRef.refine((ref) => ref.kind !== 'vault', { message: 'use env:NAME or file:PATH here: the vault is not open when Baton connects to Temporal' });

/**
 * Where Temporal runs and how to reach it. Each field can also come from the environment (Temporal's own
 * variable names, TEMPORAL_ADDRESS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_API_KEY, ...), which wins.
 */
export const temporalSchema = z
  .object({
    /** host:port of the frontend, e.g. my-ns.a2b3c.tmprl.cloud:7233. */
    address: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    taskQueue: z.string().min(1).optional(),
    /** Temporal Cloud API key (a secret reference); implies TLS. */
    apiKey: startupSecretRef.optional(),
    connectTimeoutSeconds: z.number().positive().max(300).optional(),
    /** `true` for TLS with the system's CAs; an object for a private CA, a client certificate (mTLS) or a server name. */
    tls: z
      .union([
        z.boolean(),
        z
          .object({
            enabled: z.boolean().optional(),
            /** PEM file paths, relative to this file's folder. */
            serverCaCert: z.string().min(1).optional(),
            clientCert: z.string().min(1).optional(),
            /** The client certificate's private key: a secret reference (file:PATH or env:NAME holding the PEM). */
            clientKey: startupSecretRef.optional(),
            serverName: z.string().min(1).optional(),
          })
          .strict(),
      ])
      .optional(),
  })
  .strict();

export const configSchema = z
  .object({
    identityProviders: z.array(identityProviderSchema).default([]),
    apps: z.record(name, appSchema).default({}),
    mcpServers: z
      .record(z.string(), mcpServerSchema)
      // Checked here rather than as the record's key schema, so the message reaches the user (zod reports a bad key as "Invalid key").
      .superRefine((servers, ctx) => {
        for (const id of Object.keys(servers)) {
          const problem = upstreamIdProblem(id);
          if (problem) ctx.addIssue({ code: 'custom', path: [id], message: problem });
        }
      })
      .default({}),
    /**
     * Where the tools come from: modules (paths relative to this file, or package names) that export an array
     * of tools as `tools` or as their default export. Without it, Baton's own demo tools.
     */
    toolsFrom: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /**
     * Apps written as code: modules (paths relative to this file, or package names) that export an array of
     * connectors as `apps` or as their default export, registered after Baton's own (GitHub, Slack, Jira, CRM).
     */
    appsFrom: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    tools: z.record(name, toolSchema).default({}),
    servers: z
      .record(name, serverSchema)
      .refine((servers) => Object.keys(servers).length > 0, 'declare at least one MCP server')
      .default(() => ({ default: { tools: '*' as const, auth: { mode: 'oauth' as const }, access: { users: [], groups: [], apiTokens: [] } } })),
    /**
     * A user's role, within their own tenant (`alice: owner`); `{ role: owner, tenant: acme }` holds only while
     * they act in tenant acme (the same user may belong to several); `{ role: owner, global: true }` lets an owner
     * or admin read and act across tenants. A secondary provider's user is keyed `<issuer>#<subject>`.
     */
    roles: z
      .record(
        z.string().min(1),
        z.union([
          roleName,
          z
            .object({ role: roleName, tenant: z.string().min(1).optional(), global: z.boolean().default(false) })
            .strict()
            .refine((entry) => !(entry.global && entry.tenant !== undefined), { message: 'a role is either global or for one tenant, not both' }),
        ]),
      )
      .default({}),
    apiTokens: z.array(z.object({ name, tenant: z.string().default('default'), token: secretRef }).strict()).default([]),
    restrictedHeaders: z.array(z.string().min(1)).default([]),
    temporal: temporalSchema.default({}),
  })
  .strict();

export type BatonConfig = z.infer<typeof configSchema>;
export type CredentialConfig = z.infer<typeof credentialSchema>;
export type ExtraHeaderConfig = z.infer<typeof extraHeaderSchema>;
export type TemporalConfig = z.infer<typeof temporalSchema>;
export type IdentityProviderConfig = z.infer<typeof identityProviderSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type McpServerConfig = z.infer<typeof mcpServerSchema>;
export type ServerAuthConfig = z.infer<typeof serverAuthSchema>;
export type AccessConfig = z.infer<typeof accessSchema>;
