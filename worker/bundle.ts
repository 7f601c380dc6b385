import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const defaultWorkflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const identityInterceptorsPath = fileURLToPath(new URL('../workflows/interceptors.ts', import.meta.url));
const tracingInterceptorsPath = fileURLToPath(new URL('../workflows/tracing-interceptors.ts', import.meta.url));

const sharedModulesPath = fileURLToPath(new URL('../workflows/shared-modules.ts', import.meta.url));
const zodFrozenRegexLoaderPath = fileURLToPath(new URL('./zod-frozen-regex-loader.ts', import.meta.url));

/**
 * How Baton bundles workflow code, for a prebuilt bundle and for a worker that bundles at start alike: zod
 * is evaluated once per worker and shared by every workflow (see workflows/shared-modules.ts for why that
 * is safe, and zod-frozen-regex-loader.ts for the one line of zod it adapts).
 */
export const workflowBundlerOptions = {
  preloadModules: [sharedModulesPath],
  webpackConfigHook: (config) => ({
    ...config,
    module: {
      ...config.module,
      rules: [...(config.module?.rules ?? []), { test: /[\\/]node_modules[\\/]zod[\\/].*\.js$/, use: [zodFrozenRegexLoaderPath] }],
    },
  }),
} satisfies Pick<BundleOptions, 'preloadModules' | 'webpackConfigHook'>;

/** The workflow interceptor modules, outermost first: tracing (only when on), then identity. */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return tracing ? [tracingInterceptorsPath, identityInterceptorsPath] : [identityInterceptorsPath];
}

/**
 * Bundles workflow code (and the identity interceptors, plus the tracing ones with `tracing`, which must live
 * inside the bundle) once, to a file workers can load.
 */
export async function bundleWorkflows(outFile: string, workflowsPath = defaultWorkflowsPath, { tracing = true }: { tracing?: boolean } = {}): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: workflowInterceptorModules(tracing),
    ...workflowBundlerOptions,
  });
  await writeFile(outFile, code);
}
