import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const defaultWorkflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const identityInterceptorsPath = fileURLToPath(new URL('../workflows/interceptors.ts', import.meta.url));
const tracingInterceptorsPath = fileURLToPath(new URL('../workflows/tracing-interceptors.ts', import.meta.url));

/** The workflow interceptor modules, outermost first: tracing (only when on), then identity. */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return tracing ? [tracingInterceptorsPath, identityInterceptorsPath] : [identityInterceptorsPath];
}

/**
 * Bundles workflow code (and the identity interceptors, plus the tracing ones with `tracing`, which must live
 * inside the bundle) once, to a file workers can load.
 */
export async function bundleWorkflows(outFile: string, workflowsPath = defaultWorkflowsPath, { tracing = true }: { tracing?: boolean } = {}): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: workflowInterceptorModules(tracing) });
  await writeFile(outFile, code);
}
