import { inputRequired, UrlElicitationRequiredError, type CallToolResult, type InputRequiredResult } from '@modelcontextprotocol/server';
import type { ConsentLink } from './tool-runner.ts';

/**
 * The three ways an agent learns that its user must connect apps, one per kind of client. Every form
 * carries only Baton's own `/connect/{requestId}` links: no provider URL, no secret, no session.
 */

const summary = (links: ConsentLink[]) =>
  `To continue, connect ${links.map((l) => l.appName).join(' and ')}: open ${links.length === 1 ? 'this link' : 'these links'} in your browser, then ask again.`;

/** The key of an app's prompt in an `input_required` result (and of the user's answer in the retry's `inputResponses`). */
export const promptKeyOf = (app: string) => `connect_${app}`;

/** 2026-07-28 clients: an `input_required` result, one URL elicitation per app, and the sealed state to retry with. */
export function inputRequiredPrompt(links: ConsentLink[], requestState: string): InputRequiredResult {
  const inputRequests = Object.fromEntries(links.map((l) => [promptKeyOf(l.app), inputRequired.elicitUrl({ message: `${l.message} Connect ${l.appName} to continue.`, url: l.url })]));
  return inputRequired({ inputRequests, requestState });
}

/** 2025-era clients that declared URL elicitation: JSON-RPC error -32042 with one elicitation per app. */
export function urlElicitationError(links: ConsentLink[]): UrlElicitationRequiredError {
  return new UrlElicitationRequiredError(
    links.map((l) => ({ mode: 'url' as const, elicitationId: l.consentId, url: l.url, message: `${l.message} Connect ${l.appName} to continue.` })),
    summary(links),
  );
}

/** Clients without elicitation: a normal result a person (or model) can read, plus the same facts as data. */
export function textPrompt(runId: string, links: ConsentLink[]): CallToolResult {
  const lines = links.map((l) => `- ${l.appName}: ${l.url}`);
  return {
    content: [{ type: 'text', text: `${summary(links)}\n${lines.join('\n')}\nThen call this tool again (or get_run_result with runId "${runId}") to get the result.` }],
    structuredContent: { status: 'auth_required', runId, authorizationUrls: Object.fromEntries(links.map((l) => [l.app, l.url])) },
  };
}

/** TrueFoundry-compatible body for the optional HTTP 401 mode. */
export function authRequiredBody(links: ConsentLink[]) {
  return {
    error: { type: 'McpAuthRequiredError' },
    authorization_urls: Object.fromEntries(links.map((l) => [l.app, l.url])),
    server_names: Object.fromEntries(links.map((l) => [l.app, l.appName])),
    message: summary(links),
  };
}
