/**
 * Apps written as code, as a value: Baton's own connectors (apps/built-in.ts) and the modules `appsFrom` in
 * baton.yaml names, loaded the same way, in that order. Each module exports `apps` (or a default export): an
 * array of connectors. The gateway and the worker each load them from the same configuration.
 */
import { createRequire } from 'node:module';
import type { AppConnector } from '../../apps/types.ts';
import type { BatonConfig } from '../config/file/schema.ts';
import { batonFile } from '../runtime-files.ts';
import { resolveModules, type ModuleBase } from './module-specifiers.ts';

/** Baton's connectors (GitHub, Slack, Jira, CRM), the first app module of every configuration. */
export const builtInAppsModule = batonFile('../../apps/built-in.ts', import.meta.url);

export class AppModuleError extends Error {
  override name = 'AppModuleError';
}

/** The absolute files of the app modules: Baton's own, then the configuration's `appsFrom`. */
export function appModulePaths(config: Pick<BatonConfig, 'appsFrom'>, base: ModuleBase): string[] {
  const from = config.appsFrom === undefined ? [] : typeof config.appsFrom === 'string' ? [config.appsFrom] : config.appsFrom;
  return [builtInAppsModule, ...resolveModules('appsFrom', from, base, (message) => new AppModuleError(message))];
}

/**
 * Loads the app modules (synchronously: connectors are plain objects, and settings are read before anything
 * starts) and returns their connectors by id. A module that fails to load, exports no array of connectors, or
 * an app id used twice stops the start with a message naming the files.
 *
 * @example
 * const connectors = loadConnectors([builtInAppsModule, '/srv/app/apps/weather.ts']);
 * connectors.get('weather')?.actions.forecast;
 */
export function loadConnectors(paths: readonly string[]): Map<string, AppConnector> {
  const load = createRequire(import.meta.url);
  const connectors = new Map<string, AppConnector>();
  const origin = new Map<string, string>();
  for (const path of paths) {
    let loaded: Record<string, unknown>;
    try {
      loaded = load(path) as Record<string, unknown>;
    } catch (error) {
      throw new AppModuleError(`The app module ${path} failed to load: ${(error as Error).message}`, { cause: error });
    }
    const exported = loaded.apps ?? loaded.default;
    if (!Array.isArray(exported) || !exported.every(isConnector)) {
      throw new AppModuleError(
        `The app module ${path} must export an array of connectors (each with an id, a displayName, defaultEndpoints, a defaultMode and actions) as \`apps\` or as its default export.`,
      );
    }
    for (const connector of exported) {
      const first = origin.get(connector.id);
      if (first !== undefined) throw new AppModuleError(`Two apps have the id "${connector.id}": one in ${first}, one in ${path}. App ids must be unique; rename one.`);
      origin.set(connector.id, path);
      connectors.set(connector.id, connector);
    }
  }
  return connectors;
}

function isConnector(value: unknown): value is AppConnector {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<AppConnector>;
  return (
    typeof candidate.id === 'string' &&
    /^[a-z][a-z0-9_-]{0,63}$/.test(candidate.id) &&
    typeof candidate.displayName === 'string' &&
    typeof candidate.defaultMode === 'string' &&
    typeof candidate.defaultEndpoints === 'object' &&
    typeof candidate.actions === 'object' &&
    candidate.actions !== null
  );
}
