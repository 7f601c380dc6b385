import { ApplicationFailure } from '@temporalio/activity';
import { decodeJwt } from 'jose';
import type { AppConnector } from '../apps/index.ts';
import { FailureType } from './contract.ts';

/**
 * The audiences of a caller's token that are Baton's own resources (its `/mcp` and virtual servers under it,
 * or the gateway itself): such a token opens Baton, so whoever receives it could replay it against `/mcp`,
 * `/api/*` and `/admin/*` as that user. A token Baton cannot read (not a JWT) names no audience of Baton's:
 * Baton's own resources accept only JWTs from its identity providers.
 *
 * @example
 * batonAudiencesOf(token, 'https://baton.example.com'); // ['https://baton.example.com/mcp']
 */
export function batonAudiencesOf(token: string, publicUrl: string): string[] {
  const base = publicUrl.replace(/\/$/, '');
  return audiencesOf(token).filter((entry) => entry === base || entry === `${base}/` || entry === `${base}/mcp` || entry.startsWith(`${base}/mcp/`));
}

/** Refuses to hand `connector` a caller token whose audience is Baton's own (see batonAudiencesOf), saying what to configure instead. */
export function refuseBatonAudience(token: string, connector: AppConnector, subject: string, publicUrl: string, how: string): void {
  const own = batonAudiencesOf(token, publicUrl);
  if (own.length === 0) return;
  throw ApplicationFailure.nonRetryable(
    `Baton does not ${how} ${connector.displayName}: ${subject}'s token was issued for Baton itself (${own.join(', ')}), so anyone who saw it could replay it against Baton as ${subject}. Configure credential mode token_exchange to get a token meant for ${connector.displayName}, or passthrough only on a passthrough server.`,
    FailureType.appRequestFailed,
  );
}

/** Every audience a JWT names, unverified (none for a token that is not a JWT): for deciding where it may go, never whom to trust. */
export function audiencesOf(token: string): string[] {
  let audience: unknown;
  try {
    audience = decodeJwt(token).aud;
  } catch {
    return [];
  }
  return typeof audience === 'string' ? [audience] : Array.isArray(audience) ? audience.filter((entry): entry is string => typeof entry === 'string') : [];
}
