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
  /** Sign-ins one client address may start a minute (each visit without a session starts one). */
  signInRateLimitPerMinute: number;
  /** A consent request nobody finished within this long is expired (its run has long given up waiting, or died). */
  consentRequestTtlMs: number;
  /** How long an MCP task (a run started as one) can be read after it was created; then it is an expired task. */
  taskTtlMs: number;
  /** The polling interval MCP tasks suggest to clients. */
  taskPollIntervalMs: number;
  /** How long a tools/call from a task-capable 2026-07-28 client waits for the run before handing it over as a task. */
  taskAnswerWithinMs: number;
  /** Update waits (each grows the run's history) one run gets a minute from this gateway; past them, its status by query. */
  runWaitsPerMinute: number;
  /** How long a `/readyz` answer is reused: probes and strangers alike cost Temporal, the database and the JWKS one check per period. */
  readinessCacheMs: number;
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
  BATON_SIGN_IN_RATE_LIMIT_PER_MINUTE: positiveInt.default(120),
  BATON_CONSENT_REQUEST_TTL_SECONDS: positiveInt.default(24 * 3600),
  BATON_TASK_TTL_SECONDS: positiveInt.default(24 * 3600),
  BATON_TASK_POLL_INTERVAL_MS: positiveInt.default(2000),
  BATON_TASK_ANSWER_WITHIN_MS: z.coerce.number().int().nonnegative().default(1000),
  BATON_RUN_WAITS_PER_MINUTE: positiveInt.default(20),
  BATON_READINESS_CACHE_MS: z.coerce.number().int().min(0).default(2000),
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
    signInRateLimitPerMinute: vars.BATON_SIGN_IN_RATE_LIMIT_PER_MINUTE,
    consentRequestTtlMs: vars.BATON_CONSENT_REQUEST_TTL_SECONDS * 1000,
    taskTtlMs: vars.BATON_TASK_TTL_SECONDS * 1000,
    taskPollIntervalMs: vars.BATON_TASK_POLL_INTERVAL_MS,
    taskAnswerWithinMs: vars.BATON_TASK_ANSWER_WITHIN_MS,
    readinessCacheMs: vars.BATON_READINESS_CACHE_MS,
    runWaitsPerMinute: vars.BATON_RUN_WAITS_PER_MINUTE,
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
