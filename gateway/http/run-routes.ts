import type { Client } from '@temporalio/client';
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { BatonStores } from '../../core/stores.ts';
import { extrasOf } from '../mcp/mcp-server.ts';
import type { RunRegistry } from '../../core/runs/run-registry.ts';
import { ownRunView, runViews, type RunView } from '../web/account-views.ts';

export interface RunRoutesDependencies {
  authenticate: RequestHandler;
  stores: BatonStores;
  client: Client;
  runs: RunRegistry;
  publicUrl: string;
  /** An app's name as people read it (run views name the apps a run waits on). */
  appName: (app: string) => string;
}

/** Each listed run costs a Temporal describe (its live status): a listing is bounded to this many. */
const MAX_LISTED_RUNS = 50;
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(MAX_LISTED_RUNS).default(20) }).strict();

/**
 * A user's own runs, as the Runs page shows them: `GET /api/runs` (newest first) and `GET /api/runs/:id`
 * with status, the apps it waits for (with the consent links) and its steps with whose credential each
 * used. Someone else's run id is a 404 that says nothing more than an unknown one.
 */
export function runRoutes(deps: RunRoutesDependencies): Router {
  const router = express.Router();
  router.use('/api/runs', deps.authenticate);
  const shown = (view: RunView) => ({
    runId: view.runId,
    tool: view.tool,
    createdAt: new Date(view.createdAt).toISOString(),
    state: view.state,
    temporalStatus: view.temporalStatus,
    failure: view.failure,
    waitingFor: view.waitingOn.map((wait) => ({ app: wait.app, appName: wait.appName, connectUrl: `${deps.publicUrl}/connect/${encodeURIComponent(wait.consentId)}` })),
    steps: view.steps.map((step) => ({
      at: new Date(step.at).toISOString(),
      app: step.app,
      action: step.action,
      outcome: step.outcome,
      upstreamStatus: step.upstreamStatus,
      durationMs: step.durationMs,
      credential: step.credential,
      runPath: step.runPath,
      objectRef: step.objectRef,
    })),
  });

  router.get('/api/runs', async (req, res, next) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) return void res.status(400).json({ error: 'invalid_request', message: `The only parameter is limit (1–${MAX_LISTED_RUNS}).` });
    try {
      const views = await runViews(deps, extrasOf(req.auth).principal, query.data.limit);
      res.set('Cache-Control', 'no-store').json({ runs: views.map(shown) });
    } catch (error) {
      next(error);
    }
  });

  router.get('/api/runs/:runId', async (req, res, next) => {
    try {
      const view = await ownRunView(deps, extrasOf(req.auth).principal, String(req.params.runId));
      if (!view) return void res.status(404).json({ error: 'not_found', message: `No run "${req.params.runId}" of yours is known here.` });
      res.set('Cache-Control', 'no-store').json(shown(view));
    } catch (error) {
      next(error);
    }
  });

  return router;
}
