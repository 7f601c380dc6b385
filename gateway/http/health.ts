import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import type { SqlDatabase } from '../../core/db.ts';
import type { AccessTokenVerifier } from '../auth/access-token-verifier.ts';

/**
 * `/healthz`: the process is alive. `/readyz`: it can do its job — Temporal answers, the database (and
 * so the vault) is open, and the identity provider's keys are loaded — each check named in the answer.
 */
export function healthRoutes(deps: { client: Client; db: SqlDatabase; verifier: AccessTokenVerifier }): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    const checks = {
      // With a deadline: while Temporal is away the client's retries would otherwise outlast any probe's timeout.
      temporal: () => deps.client.connection.withDeadline(Date.now() + 3_000, () => deps.client.connection.workflowService.getSystemInfo({})).then(() => undefined),
      database: async () => void (await deps.db.get('SELECT 1 AS ok')),
      jwks: () => deps.verifier.checkKeys(),
    };
    const results: Record<string, string> = {};
    for (const [name, check] of Object.entries(checks)) {
      results[name] = await check().then(
        () => 'ok',
        (error: Error) => `failing: ${error.message}`,
      );
    }
    const ready = Object.values(results).every((result) => result === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: results });
  });
  return router;
}
