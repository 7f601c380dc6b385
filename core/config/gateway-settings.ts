import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { BatonSettings } from './settings.ts';

/** How the gateway tells an agent that the user must connect an app. */
export type ConsentPromptMode = 'mcp' | 'http-401';

export interface GatewaySettings {
  host: string;
  port: number;
  /** Canonical resource URI of the MCP endpoint (the audience inbound tokens must carry). */
  resourceUrl: string;
  identityProvider: {
    issuer: string;
    jwks: { url: string } | { keys: Record<string, unknown>[] };
    /** The confidential client the gateway signs browser users in with. */
    browserClient: { clientId: string; clientSecret: string };
  };
  requiredScopes: string[];
  defaultTenant: string;
  /** How long a tools/call waits for the run before answering with a handle to come back with. */
  callWaitMs: number;
  /** HMAC key sealing 2026-era `requestState`; shared by every gateway so any of them can verify. */
  requestStateKey: Uint8Array;
  requestStateTtlSeconds: number;
  consentPromptMode: ConsentPromptMode;
  rateLimitPerMinute: number;
  maxBodyBytes: number;
  /** When set, `/metrics` answers only scrapers presenting it as a bearer token. */
  metricsToken: string | undefined;
  /** Host names accepted in `Host` and `Origin` (DNS-rebinding protection). */
  allowedHosts: string[];
}

const positiveInt = z.coerce.number().int().positive();
const environment = z.object({
  BATON_HOST: z.string().default('127.0.0.1'),
  PORT: positiveInt.default(3000),
  BATON_IDP_ISSUER: z.url({ error: 'must be the identity provider issuer URL (the sandbox IdP under npm start)' }),
  BATON_IDP_JWKS_URL: z.url().optional(),
  BATON_IDP_JWKS: z.string().optional(),
  BATON_IDP_CLIENT_ID: z.string().min(1, 'is needed to sign users in on the consent pages'),
  BATON_IDP_CLIENT_SECRET: z.string().min(1, 'is needed to sign users in on the consent pages'),
  BATON_REQUIRED_SCOPES: z.string().default('mcp:tools'),
  BATON_DEFAULT_TENANT: z.string().default('default'),
  BATON_MCP_WAIT_SECONDS: positiveInt.default(60),
  BATON_REQUEST_STATE_KEY: z.string().min(43, 'must be at least 32 bytes, base64url (e.g. `openssl rand -base64 32`)').optional(),
  BATON_REQUEST_STATE_TTL_SECONDS: positiveInt.default(3600),
  BATON_CONSENT_PROMPT: z.enum(['mcp', 'http-401']).default('mcp'),
  BATON_RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  BATON_MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  BATON_ALLOWED_HOSTS: z.string().optional(),
  BATON_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

/**
 * The gateway's settings, from the environment. The identity provider's keys come from
 * `BATON_IDP_JWKS` (inline) or `BATON_IDP_JWKS_URL`, defaulting to `<issuer>/jwks` (the sandbox IdP's).
 * A bad value stops the process with a message naming the variable.
 */
export function loadGatewaySettings(baton: BatonSettings, env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Environment variable ${String(issue?.path[0])} ${issue?.message}.`);
  }
  const vars = parsed.data;
  const jwks = vars.BATON_IDP_JWKS ? { keys: parseInlineJwks(vars.BATON_IDP_JWKS) } : { url: vars.BATON_IDP_JWKS_URL ?? `${vars.BATON_IDP_ISSUER.replace(/\/$/, '')}/jwks` };
  const publicHost = new URL(baton.publicUrl).hostname;
  return {
    host: vars.BATON_HOST,
    port: vars.PORT,
    resourceUrl: `${baton.publicUrl}/mcp`,
    identityProvider: {
      issuer: vars.BATON_IDP_ISSUER,
      jwks,
      browserClient: { clientId: vars.BATON_IDP_CLIENT_ID, clientSecret: vars.BATON_IDP_CLIENT_SECRET },
    },
    requiredScopes: vars.BATON_REQUIRED_SCOPES.split(/[ ,]+/).filter(Boolean),
    defaultTenant: vars.BATON_DEFAULT_TENANT,
    callWaitMs: vars.BATON_MCP_WAIT_SECONDS * 1000,
    requestStateKey: vars.BATON_REQUEST_STATE_KEY ? Buffer.from(vars.BATON_REQUEST_STATE_KEY, 'base64url') : devRequestStateKey(join(baton.home, 'request-state.key')),
    requestStateTtlSeconds: vars.BATON_REQUEST_STATE_TTL_SECONDS,
    consentPromptMode: vars.BATON_CONSENT_PROMPT,
    rateLimitPerMinute: vars.BATON_RATE_LIMIT_PER_MINUTE,
    maxBodyBytes: vars.BATON_MAX_BODY_BYTES,
    metricsToken: vars.BATON_METRICS_TOKEN,
    allowedHosts: vars.BATON_ALLOWED_HOSTS?.split(/[ ,]+/).filter(Boolean) ?? [...new Set([publicHost, 'localhost', '127.0.0.1', '[::1]'])],
  };
}

function parseInlineJwks(text: string): Record<string, unknown>[] {
  try {
    const parsed = JSON.parse(text) as { keys?: unknown };
    if (Array.isArray(parsed.keys)) return parsed.keys as Record<string, unknown>[];
  } catch {
    // fall through to the error below
  }
  throw new Error('Environment variable BATON_IDP_JWKS must be a JSON Web Key Set: {"keys": [...]}.');
}

/** Development only: one random key kept under BATON_HOME, so restarts keep accepting old `requestState`. */
function devRequestStateKey(file: string): Uint8Array {
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  const key = randomBytes(32);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, key.toString('base64url'), { mode: 0o600 });
  return key;
}
