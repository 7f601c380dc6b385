import type { Response, Router } from 'express';
import express from 'express';
import type { JSONWebKeySet } from 'jose';
import { randomBytes } from 'node:crypto';
import Provider, { errors, type AdapterFactory, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { SandboxContext } from '../context.ts';
import { findAccount } from '../idp/accounts.ts';
import { fetchClientMetadataDocument } from '../idp/client-metadata-documents.ts';
import { recordIssuedSecrets } from '../idp/issued-secrets.ts';
import { createMemoryAdapter } from '../idp/memory-adapter.ts';
import { providerRouter } from '../idp/provider-router.ts';
import { prepareSigningKeys, publicJwks } from '../idp/signing-keys.ts';
import { logRequests, noteCredential, noteGrantType } from '../request-log.ts';
import { NotesGrants } from './notes-grants.ts';
import { sandboxProviderDefaults } from '../idp/provider-defaults.ts';

/** Where the notes authorization server lives on the sandbox server; its issuer is the sandbox URL plus this. */
export const notesAuthPath = '/notes-auth';
export const notesScopes = ['notes:read', 'notes:write'] as const;
/** The scope of a client-credentials token: it may list the tools, never run one (tools act as a user). */
export const notesListScope = 'notes:list';

/** A confidential client of the organisation that lists the notes server's tools with the client-credentials grant. */
export interface NotesListingClient {
  clientId: string;
  clientSecret: string;
}

/** The models whose records descend from a grant and end with it. */
const grantBoundModels = ['AccessToken', 'RefreshToken', 'AuthorizationCode'];

export interface NotesAuthorizationServer {
  /** `${sandboxUrl}/notes-auth`. */
  issuer: string;
  /** Mounted at the sandbox root: everything under /notes-auth plus the discovery documents' root aliases. */
  router: Router;
  /** What `${issuer}/jwks` publishes: the MCP server verifies tokens against it. */
  jwks: JSONWebKeySet;
  grants: NotesGrants;
  /** What the user does by removing the notes app's access: every grant they gave ends (tokens, refresh tokens, codes). */
  revokeUserGrants(user: string): Promise<number>;
}

/**
 * The notes upstream's own OAuth 2.1 authorization server, separate from the sandbox identity provider
 * (its own issuer, keys, clients, grants and cookies), built from the same oidc-provider pieces: the demo
 * users sign in on the same kind of pages, clients register themselves (RFC 7591) or name a client ID
 * metadata document, PKCE S256 is required, and every authorization and token request must name the one
 * resource it serves (RFC 8707), the notes MCP endpoint, which becomes the JWT access token's audience.
 */
export async function createNotesAuthorizationServer(ctx: SandboxContext, options: { resource: string; listingClient: NotesListingClient }): Promise<NotesAuthorizationServer> {
  const issuer = `${ctx.publicUrl()}${notesAuthPath}`;
  const signing = await prepareSigningKeys(undefined);
  const grants = new NotesGrants();
  const storage = createMemoryAdapter({ findUnknownClient: fetchClientMetadataDocument });
  // Grants are recorded as they are stored, so a user's grants can be found (and revoked) later.
  const adapter: AdapterFactory = (model) => {
    const inner = storage(model);
    if (model !== 'Grant') return inner;
    return {
      ...inner,
      async upsert(id, payload, expiresIn) {
        if (typeof payload.accountId === 'string') grants.granted(payload.accountId, id);
        return inner.upsert(id, payload, expiresIn);
      },
    };
  };
  const accessTokenTtl = () => ctx.settings.accessTokenTtlSeconds;
  const required = (what: string) => new errors.InvalidTarget(`${what}: the resource parameter is required and must be ${options.resource} (RFC 8707).`);

  const configuration: Configuration = {
    adapter,
    clients: [
      {
        client_id: options.listingClient.clientId,
        client_secret: options.listingClient.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: signing.keys as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // Both providers share the sandbox's host: cookies of their own keep their sessions apart.
      names: { session: '_notes_session', interaction: '_notes_interaction', resume: '_notes_interaction_resume' },
    },
    findAccount,
    claims: { openid: ['sub'] },
    scopes: ['openid', 'offline_access', ...notesScopes, notesListScope],
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientDefaults: {
      // MCP clients refresh; one that registers without naming grant types may too.
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: signing.alg,
    },
    clientBasedCORS: () => true,
    interactions: { url: (_ctx, interaction) => `${notesAuthPath}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Called at /authorize when no resource was given (and with several at /token): refuse rather than default.
        defaultResource: (_ctx, _client, oneOf) => {
          throw oneOf ? new errors.InvalidTarget('Exactly one resource may be requested.') : required('Authorization request');
        },
        // Called at /token only when the request names no resource: the granted one is not assumed.
        useGrantedResource: () => {
          throw required('Token request');
        },
        getResourceServerInfo: (_ctx, resource, client) => {
          if (resource !== options.resource) throw new errors.InvalidTarget(`This authorization server issues tokens only for ${options.resource}.`);
          return {
            audience: resource,
            // The listing client gets only the listing scope; users' clients only the notes scopes.
            scope: client.clientId === options.listingClient.clientId ? notesListScope : notesScopes.join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTokenTtl(),
            jwt: { sign: { alg: signing.alg, kid: signing.kid } },
          };
        },
      },
    },
    // Without `offline_access` (a notes client asks for notes scopes only), any client allowed to refresh gets a refresh token.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Asked before a refresh token is rotated (consumed), so the missing resource is refused first: a
    // request without it must not burn the client's refresh token. The rotation itself is the library's
    // default: public clients always rotate.
    rotateRefreshToken: (koa) => {
      if (!koa.oidc.params?.resource) throw required('Token request');
      return koa.oidc.client?.clientAuthMethod === 'none' || (koa.oidc.entities.RefreshToken?.ttlPercentagePassed() ?? 0) >= 70;
    },
    ...sandboxProviderDefaults(accessTokenTtl),
  };

  const provider = new Provider(issuer, configuration);
  recordIssuedSecrets(provider, (secret) => ctx.secrets.add(secret));
  provider.on('access_token.issued', (token) => {
    if (token.grantId) grants.issued(token.jti, token.grantId);
  });
  provider.on('grant.revoked', (_ctx, grantId: string) => grants.revoked(grantId));
  provider.use(noteTokenRequests);

  const router = express.Router();
  // The token endpoint is logged like the apps' (and can be slowed down); the provider still parses the body.
  router.post(`${notesAuthPath}/token`, logRequests(ctx.requestLog, 'notes', ''), ctx.delays.middleware('notes', ''));
  router.use(providerRouter(provider, notesAuthPath, { providerName: 'Sandbox Notes' }));

  return {
    issuer,
    router,
    jwks: publicJwks(signing),
    grants,
    async revokeUserGrants(user) {
      const revoked = grants.liveGrantsOf(user);
      for (const grantId of revoked) {
        for (const model of grantBoundModels) await storage(model).revokeByGrantId(grantId);
        await storage('Grant').destroy(grantId);
        grants.revoked(grantId);
      }
      return revoked.length;
    },
  };
}

/** Tells the request log who the token endpoint's client was and whose grant the exchange was for. */
async function noteTokenRequests(koa: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  if (koa.oidc?.route !== 'token') return;
  // Express's response object underlies Koa's: the log's notes live on its `locals`.
  const res = koa.res as unknown as Response;
  if (!res.locals) return;
  const { entities, params } = koa.oidc;
  const grantType = params?.grant_type;
  if (typeof grantType === 'string') noteGrantType(res, grantType);
  const client = entities.Client;
  const user = entities.Grant?.accountId ?? entities.AccessToken?.accountId ?? null;
  const valid = koa.status === 200;
  noteCredential(res, {
    scheme: client?.clientAuthMethod === 'client_secret_basic' ? 'basic' : 'none',
    presented: client?.clientId ?? null,
    user: valid ? user : null,
    valid,
  });
}
