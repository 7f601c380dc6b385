/**
 * Whether this process may read (and create) development key files under `.baton/` — the vault key, the audit
 * key, the identity key. Not in production: a key file next to the data it protects is no protection, and a
 * deployment that forgot a variable must not start on a key it just invented. Production is
 * `NODE_ENV=production` or `BATON_PRODUCTION=true`.
 *
 * @example
 * refuseDevKeyFileInProduction(process.env, 'BATON_VAULT_KEY', '.baton/vault.key');
 */
export function refuseDevKeyFileInProduction(env: NodeJS.ProcessEnv, variable: string, devKeyFile: string): void {
  const production = env.NODE_ENV === 'production' || /^(1|true|yes)$/i.test(env.BATON_PRODUCTION ?? '');
  if (!production) return;
  const why = env.NODE_ENV === 'production' ? 'NODE_ENV=production' : `BATON_PRODUCTION=${env.BATON_PRODUCTION}`;
  throw new DevKeyFileRefused(
    `${variable} is not set, and in production (${why}) Baton does not use the development key file ${devKeyFile}: set ${variable} from your secret store (the README's production guide says how to make one).`,
  );
}

export class DevKeyFileRefused extends Error {
  override name = 'DevKeyFileRefused';
}
