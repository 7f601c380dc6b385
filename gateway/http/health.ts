import type { Client } from '@temporalio/client';
import express, { type Router } from 'express';
import type { SqlDatabase } from '../../core/db.ts';
import type { AccessTokenVerifier } from '../auth/access-token-verifier.ts';

/**
 * `/healthz`: the process is alive. `/readyz`: it can do its job — Temporal answers, the database (and
 * so the vault) is open, and the identity provider's keys are loaded — each check named in the answer, with
 * when it ran (`checkedAt`): an answer is reused for `cacheMs` (BATON_READINESS_CACHE_MS).
 */
export function healthRoutes(deps: { client: Client; db: SqlDatabase; verifier: AccessTokenVerifier; cacheMs: number }): Router {
  const checks = {
    // With a deadline: while Temporal is away the client's retries would otherwise outlast any probe's timeout.
    temporal: () => deps.client.connection.withDeadline(Date.now() + 3_000, () => deps.client.connection.workflowService.getSystemInfo({})).then(() => undefined),
    database: async () => void (await deps.db.get('SELECT 1 AS ok')),
    jwks: () => deps.verifier.checkKeys(),
  };
  const readiness = async (): Promise<Readiness> => {
    const results: Record<string, string> = {};
    for (const [name, check] of Object.entries(checks)) {
      results[name] = await check().then(
        () => 'ok',
        (error: Error) => `failing: ${error.message}`,
      );
    }
    return { ready: Object.values(results).every((result) => result === 'ok'), checks: results, checkedAt: new Date().toISOString() };
  };
  // One check at a time, its answer reused for `cacheMs`: a flood of unauthenticated probes costs one check per period.
  let latest: { at: number; answer: Promise<Readiness> } | undefined;
  const router = express.Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    if (!latest || Date.now() - latest.at >= deps.cacheMs) latest = { at: Date.now(), answer: readiness() };
    const { ready, checks: results, checkedAt } = await latest.answer;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: results, checkedAt });
  });
  return router;
}

interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
  checkedAt: string;
}
