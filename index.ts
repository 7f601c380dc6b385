/**
 * `baton`: the runtime, for starting Baton from code with your own tools — the gateway, a worker, the tool
 * catalogue both load from `toolsFrom` in baton.yaml, the connectors from `appsFrom` — and the configuration
 * behind them. Tool code imports
 * `baton/sdk` instead (workflow-safe). The `baton` command (`npx baton dev|gateway|worker|init|…`) wraps these.
 *
 * @example
 * import { createBatonWorker, loadSettings } from 'baton';
 * const worker = await createBatonWorker(loadSettings(process.env));
 * await worker.worker.run();
 */
export { serveGateway, type RunningGateway } from './gateway/serve.ts';
export { createBatonWorker, type BatonWorker } from './worker/create-worker.ts';
export { bundleWorkflows, writeWorkflowsEntry } from './worker/bundle.ts';
export { loadSettings, type BatonSettings } from './core/config/settings.ts';
export { loadTools, toolModulePaths, ToolModuleError } from './core/catalogue/tool-modules.ts';
export type { CallableDefinition } from './workflows/sdk/define.ts';
export { appModulePaths, builtInAppsModule, loadConnectors, AppModuleError } from './core/catalogue/app-modules.ts';
export { readRestAnswer } from './apps/answers.ts';
export type { AppConnector, AppAction, AppAnswer, AppEndpoints, AppRequest, CredentialMode } from './apps/types.ts';
