import { z } from 'zod';

/** The private claims of a signed identity; validated after the signature so a bad shape fails closed. */
export const identityClaims = z.object({
  sub: z.string().min(1),
  ctx: z.object({
    email: z.string().nullable(),
    displayName: z.string().nullable(),
    tenant: z.string().min(1),
    authMethod: z.enum(['oauth', 'api_token', 'passthrough']),
    groups: z.array(z.string()),
    roles: z.array(z.string()),
    issuer: z.string().min(1),
    inboundTokenRef: z.string().nullable(),
    headerOverrideRef: z.string().nullable().default(null),
    client: z.string().nullable().default(null),
    server: z.string().nullable().default(null),
  }),
  run: z.object({ root: z.string().min(1), tool: z.string().min(1), schedule: z.string().min(1).optional() }),
});

/** `iss` and `aud` of identity tokens: who signs them and who may accept them. */
export const IDENTITY_ISSUER = 'urn:baton:gateway';
export const IDENTITY_AUDIENCE = 'urn:baton:worker';
export const IDENTITY_TOKEN_TYPE = 'baton-identity+jwt';
/** Only asymmetric algorithms: workers hold public keys and can verify but never mint identities. */
export const IDENTITY_ALGORITHMS = ['EdDSA', 'ES256'];
