import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';

/** Where a configuration's module list (`toolsFrom`, `appsFrom`) is read relative to. */
export interface ModuleBase {
  /** The configuration file's folder. */
  baseDir: string;
  configFile: string | null;
}

/**
 * The absolute file of each module a configuration field names: a path relative to the configuration's folder,
 * or a package (or a package's subpath) found from that folder as the project itself would find it. A name that
 * leads nowhere is `fail`ed with a message saying what to do.
 *
 * @example
 * const files = resolveModules('toolsFrom', ['./tools/index.ts', '@acme/baton-tools'], { baseDir: '/srv/app', configFile: '/srv/app/baton.yaml' }, (message) => new Error(message));
 */
export function resolveModules(field: string, specifiers: readonly string[], base: ModuleBase, fail: (message: string) => Error): string[] {
  return specifiers.map((specifier) => {
    if (specifier.startsWith('.') || isAbsolute(specifier)) {
      const path = resolve(base.baseDir, specifier);
      if (!existsSync(path)) throw fail(`${field} names ${specifier}, but there is no ${path}${base.configFile ? ` (relative to ${base.configFile})` : ''}.`);
      return path;
    }
    try {
      return createRequire(join(base.baseDir, 'baton.yaml')).resolve(specifier);
    } catch {
      throw fail(`${field} names the package "${specifier}", which is not installed where ${base.configFile ?? base.baseDir} is: npm install it there.`);
    }
  });
}
