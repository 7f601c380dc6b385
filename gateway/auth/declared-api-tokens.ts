import { ConfigError } from '../../core/config/file/load-config.ts';
import { readSecret, SecretUnavailableError } from '../../core/config/file/secret-ref.ts';
import type { BatonSettings } from '../../core/config/settings.ts';
import { ApiTokenError, type ApiTokenStore } from '../../core/api-tokens/api-token-store.ts';

/** Puts the configuration file's `apiTokens` into the store at start; a bad entry stops start-up, naming it. */
export async function declareConfiguredApiTokens(settings: BatonSettings, tokens: ApiTokenStore, env: NodeJS.ProcessEnv): Promise<void> {
  for (const [index, declared] of settings.config.apiTokens.entries()) {
    const where = `${settings.configFile}  apiTokens.${index}.token`;
    try {
      await tokens.declare(declared.name, readSecret(declared.token, { env, baseDir: settings.secretsDir }), { tenant: declared.tenant });
    } catch (error) {
      if (error instanceof SecretUnavailableError || error instanceof ApiTokenError) throw new ConfigError(`${where}: ${error.message}`);
      throw error;
    }
  }
}
