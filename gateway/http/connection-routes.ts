import express, { type RequestHandler, type Router } from 'express';
import type { BatonStores } from '../../core/stores.ts';
import { actorOf } from '../audit/actor.ts';
import type { ConnectionRevocation } from '../connections/connection-revocation.ts';
import { extrasOf } from '../mcp/mcp-server.ts';

export interface ConnectionRoutesDependencies {
  /** The same bearer authentication as the admin API (identity-provider tokens for the gateway, API tokens). */
  authenticate: RequestHandler;
  stores: BatonStores;
  revocation: ConnectionRevocation;
}

/**
 * A signed-in user's own app connections: `GET /api/connections` lists them (never a token) and
 * `DELETE /api/connections/:app` disconnects one, revoking it at the app too. Only ever the caller's own:
 * the user is the authenticated principal, never a parameter.
 */
export function connectionRoutes(deps: ConnectionRoutesDependencies): Router {
  const router = express.Router();
  router.use('/api/connections', deps.authenticate);

  router.get('/api/connections', async (req, res) => {
    const { principal } = extrasOf(req.auth);
    const connections = (await deps.stores.vault.listConnections(principal.tenant, principal.subject)).map((connection) => ({
      app: connection.app,
      status: connection.status,
      externalLogin: connection.externalLogin,
      scopes: connection.scopes,
      connectedAt: new Date(connection.createdAt).toISOString(),
      lastUsedAt: connection.lastUsedAt === null ? null : new Date(connection.lastUsedAt).toISOString(),
    }));
    res.set('Cache-Control', 'no-store').json({ connections });
  });

  router.delete('/api/connections/:app', async (req, res, next) => {
    const { principal } = extrasOf(req.auth);
    const app = String(req.params.app);
    try {
      const result = await deps.revocation.revoke({ tenant: principal.tenant, subject: principal.subject }, app, actorOf(principal));
      if (!result.revoked) {
        res.status(404).json({ error: 'not_found', message: `${principal.subject} has no ${app} connection.` });
        return;
      }
      res.json({ app, ...result });
    } catch (error) {
      next(error);
    }
  });

  return router;
}
