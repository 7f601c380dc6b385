import type { AppSettings } from '../core/config/settings.ts';
import type { Vault } from '../core/vault/index.ts';

/**
 * Stores service-account credentials given in the environment into the vault, so an operator can
 * provide them at deploy time: `BATON_<APP>_SERVICE_USERNAME` + `_SERVICE_PASSWORD` for Basic apps
 * (Jira: account e-mail + API token), `BATON_<APP>_SERVICE_TOKEN` for Bearer apps.
 */
export async function storeServiceAccountsFromEnv(vault: Vault, apps: ReadonlyMap<string, AppSettings>, env: NodeJS.ProcessEnv): Promise<string[]> {
  const stored: string[] = [];
  for (const { connector } of apps.values()) {
    const prefix = `BATON_${connector.id.toUpperCase()}_SERVICE_`;
    const username = env[`${prefix}USERNAME`];
    const password = env[`${prefix}PASSWORD`];
    const token = env[`${prefix}TOKEN`];
    if (username && password) await vault.putServiceCredential(connector.id, { username, password }, username);
    else if (token) await vault.putServiceCredential(connector.id, { token }, `${connector.id} service token`);
    else continue;
    stored.push(connector.id);
  }
  return stored;
}
