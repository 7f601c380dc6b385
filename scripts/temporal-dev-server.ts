import { TestWorkflowEnvironment } from '@temporalio/testing';
import { provisionTemporalCli } from './provision-temporal.ts';

export interface DevServerOptions {
  /** Persist to this SQLite file (npm start); omit for an in-memory server (tests). */
  dbFilename?: string;
  port?: number;
  uiPort?: number;
}

/** Starts a Temporal dev server with the provisioned CLI; the server stops with `teardown()`. */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const path = provisionTemporalCli();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: path ? { type: 'existing-path', path } : undefined,
      ip: '127.0.0.1',
      dbFilename: options.dbFilename,
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      log: { format: 'pretty', level: 'error' },
    },
  });
}
