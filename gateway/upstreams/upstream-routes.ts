import express, { type RequestHandler, type Router } from 'express';
import { oauthRedirectUri } from '../../core/config/settings.ts';
import { clientMetadata, CLIENT_METADATA_PATH } from '../../core/upstreams/upstream-oauth-client.ts';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { AccessPolicy } from '../access/access-policy.ts';
import { roleGate } from '../http/role-gate.ts';
import type { UpstreamTools } from './upstream-tools.ts';

export interface UpstreamRouteDependencies {
  authenticate: RequestHandler;
  policy: AccessPolicy;
  audit: AuditLog;
  upstreams: UpstreamTools;
  publicUrl: string;
  /** The upstream MCP servers users connect through OAuth: each gets a redirect URI in the document. */
  oauthUpstreams: readonly string[];
}

/**
 * Baton's client ID metadata document (what an upstream's authorization server reads when Baton uses
 * its URL as client_id), and the admins' view of the upstreams: reachable, tools cached, last error.
 */
export function upstreamRoutes(deps: UpstreamRouteDependencies): Router {
  const router = express.Router();
  const documentUrl = `${deps.publicUrl}${CLIENT_METADATA_PATH}`;
  router.get(CLIENT_METADATA_PATH, (_req, res) => {
    res.json(
      clientMetadata(
        deps.oauthUpstreams.map((id) => oauthRedirectUri(deps, id)),
        documentUrl,
      ),
    );
  });
  const allow = roleGate(deps.policy, deps.audit);
  router.get('/admin/upstreams', deps.authenticate, allow(['owner', 'admin', 'viewer'], 'Reading the upstream MCP servers'), (_req, res) => {
    res.json({ upstreams: deps.upstreams.statuses() });
  });
  return router;
}
