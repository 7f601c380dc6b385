import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const defaultWorkflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
export const workflowInterceptorsPath = fileURLToPath(new URL('../workflows/interceptors.ts', import.meta.url));

/** Bundles workflow code (and the identity and tracing interceptors, which must live inside the bundle) once, to a file workers can load. */
export async function bundleWorkflows(outFile: string, workflowsPath = defaultWorkflowsPath): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [workflowInterceptorsPath] });
  await writeFile(outFile, code);
}
