import { ConfigError } from '../../core/config/file/load-config.ts';
import { readSecret, SecretUnavailableError } from '../../core/config/file/secret-ref.ts';
import type { BatonSettings } from '../../core/config/settings.ts';
import { ApiTokenError, type ApiTokenStore } from './api-tokens.ts';

/** Puts the configuration file's `apiTokens` into the store at start; a bad entry stops start-up, naming it. */
export function declareConfiguredApiTokens(settings: BatonSettings, tokens: ApiTokenStore, env: NodeJS.ProcessEnv): void {
  settings.config.apiTokens.forEach((declared, index) => {
    const where = `${settings.configFile}  apiTokens.${index}.token`;
    try {
      tokens.declare(declared.name, readSecret(declared.token, { env, baseDir: settings.secretsDir }), { tenant: declared.tenant });
    } catch (error) {
      if (error instanceof SecretUnavailableError || error instanceof ApiTokenError) throw new ConfigError(`${where}: ${error.message}`);
      throw error;
    }
  });
}
