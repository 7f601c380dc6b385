import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { disallowedModules } from '@temporalio/worker/lib/workflow/bundler.js';
import { batonFile, batonRoot } from '../core/runtime-files.ts';

export const defaultWorkflowsPath = batonFile('../workflows/index.ts', import.meta.url);
const dispatcherPath = batonFile('../workflows/sdk/dispatcher.ts', import.meta.url);
const sdkPath = batonFile('../workflows/sdk/index.ts', import.meta.url);
const identityInterceptorsPath = batonFile('../workflows/interceptors.ts', import.meta.url);
const tracingInterceptorsPath = batonFile('../workflows/tracing-interceptors.ts', import.meta.url);

const sharedModulesPath = batonFile('../workflows/shared-modules.ts', import.meta.url);
const zodFrozenRegexLoaderPath = batonFile('./zod-frozen-regex-loader.ts', import.meta.url);

/**
 * Writes the workflow bundle's entry for these tool modules (core/catalogue/tool-modules.ts) into `dir` and
 * returns its path: Baton's dispatcher over every tool they export, as the gateway loads the same modules.
 */
export async function writeWorkflowsEntry(toolModules: readonly string[], dir: string): Promise<string> {
  const imports = toolModules.map((path, index) => `import * as module${index} from ${JSON.stringify(path)};`);
  const modules = toolModules.map((_, index) => `module${index}`).join(', ');
  const code = `// Written by Baton's worker at start: the workflow bundle's entry for the tools of baton.yaml (toolsFrom).
import { createDispatcher } from ${JSON.stringify(dispatcherPath)};
${imports.join('\n')}
export default createDispatcher([${modules}].flatMap((loaded) => loaded.tools ?? loaded.default));
`;
  await mkdir(dir, { recursive: true });
  const entry = join(dir, 'workflows-entry.js');
  // Workers sharing a folder may write at once: each writes its own file and moves it into place whole.
  const written = `${entry}.${randomUUID()}`;
  await writeFile(written, code);
  await rename(written, entry);
  return entry;
}

/** An import workflow code may not make (a run must do the same when it is replayed), and the file that makes it. */
export interface DisallowedImport {
  request: string;
  file: string;
}

/**
 * How Baton bundles workflow code, for a prebuilt bundle and for a worker that bundles at start alike: zod
 * is evaluated once per worker and shared by every workflow (see workflows/shared-modules.ts for why that
 * is safe, and zod-frozen-regex-loader.ts for the one line of zod it adapts). Imports workflow code may not
 * make are collected into `found`, with their files, for bundleFailure to name.
 */
export function workflowBundlerOptions(found: DisallowedImport[] = []): Pick<BundleOptions, 'preloadModules' | 'webpackConfigHook'> {
  return {
    preloadModules: [sharedModulesPath],
    webpackConfigHook: (config) => ({
      ...config,
      // A builder's tools import `baton/sdk`: the very modules the dispatcher runs them with, one copy of the run's state.
      resolve: {
        ...config.resolve,
        alias: { ...(config.resolve?.alias as Record<string, string> | undefined), 'baton/sdk$': sdkPath },
        // The entry lives in the project's .baton/: the Temporal workflow runtime (and zod) are found from Baton's
        // own dependencies when the project does not have them itself (Baton installed from a folder, as a link).
        modules: [...(config.resolve?.modules ?? ['node_modules']), join(batonRoot, 'node_modules')],
      },
      module: {
        ...config.module,
        rules: [...(config.module?.rules ?? []), { test: /[\\/]node_modules[\\/]zod[\\/].*\.js$/, use: [zodFrozenRegexLoaderPath] }],
      },
      plugins: [...(config.plugins ?? []), disallowedImports(found) as never],
    }),
  };
}

/** Records every import of a module the Temporal SDK keeps out of workflow code (node:fs, http, …) and its importer. */
function disallowedImports(found: DisallowedImport[]) {
  const name = 'baton-disallowed-imports';
  type Resolving = { request?: string; contextInfo?: { issuer?: string } };
  return {
    apply(compiler: { hooks: { normalModuleFactory: { tap(name: string, fn: (factory: { hooks: { beforeResolve: { tap(name: string, fn: (data: Resolving) => void): void } } }) => void): void } } }) {
      compiler.hooks.normalModuleFactory.tap(name, (factory) =>
        factory.hooks.beforeResolve.tap(name, ({ request, contextInfo }) => {
          const module = request?.replace(/^node:/, '');
          if (!module || !contextInfo?.issuer || contextInfo.issuer.includes(`${sep}node_modules${sep}`)) return;
          if (disallowedModules.includes(module) || disallowedModules.includes(module.split('/')[0]!)) found.push({ request: request!, file: contextInfo.issuer });
        }),
      );
    },
  };
}

/** Why bundling failed, in a builder's terms when a workflow file imports what it may not; else the bundler's own error. */
export function bundleFailure(error: unknown, found: readonly DisallowedImport[]): Error {
  if (found.length === 0) return error as Error;
  const lines = [...new Set(found.map(({ request, file }) => `  ${relative(process.cwd(), file) || file} imports ${request}`))];
  return new Error(
    `Tool code runs inside Temporal workflows, which must do the same when a run is replayed, so it may not use Node's I/O modules:\n${lines.join('\n')}\n` +
      'Do that work in an app call (app(...).call) or an activity instead; `import type` is fine where only types are needed.',
    { cause: error },
  );
}

/** The workflow interceptor modules, outermost first: tracing (only when on), then identity. */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return tracing ? [tracingInterceptorsPath, identityInterceptorsPath] : [identityInterceptorsPath];
}

/**
 * Bundles workflow code (and the identity interceptors, plus the tracing ones with `tracing`, which must live
 * inside the bundle) once, to a file workers can load.
 */
export async function bundleWorkflows(outFile: string, workflowsPath = defaultWorkflowsPath, { tracing = true }: { tracing?: boolean } = {}): Promise<void> {
  const found: DisallowedImport[] = [];
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: workflowInterceptorModules(tracing),
    ...workflowBundlerOptions(found),
  }).catch((error: unknown) => {
    throw bundleFailure(error, found);
  });
  await writeFile(outFile, code);
}
