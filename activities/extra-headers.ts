import type { AppConnector } from '../apps/index.ts';
import type { AppSettings } from '../core/config/settings.ts';
import type { Vault } from '../core/vault/index.ts';
import type { Caller } from './caller-context.ts';
import { callerToken } from './caller-token-credentials.ts';

/**
 * The headers the configuration adds to every call of an app, on top of its credential: the caller's
 * own token (with a prefix), who the caller is, or a fixed value. Never anything the client sent.
 */
export function extraHeaders(caller: Caller, connector: AppConnector, app: AppSettings, vault: Vault): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const header of app.headers) {
    const name = header.name.toLowerCase();
    switch (header.from) {
      case 'static':
        headers[name] = header.value;
        break;
      case 'caller_identity': {
        const value = header.field === 'email' ? caller.identity.email : caller.identity.subject;
        if (value) headers[name] = value;
        break;
      }
      case 'caller_token':
        headers[name] = `${header.prefix}${callerToken(caller, connector, vault).token}`;
        break;
      default:
        // Refused at start-up (see apply-config.ts); unreachable with a validated configuration.
        throw new Error(`"${header.from}" headers are not supported yet`);
    }
  }
  return headers;
}
