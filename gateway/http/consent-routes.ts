import express, { type Router } from 'express';
import { connectors } from '../../apps/index.ts';
import { ConnectFlow, ConnectFlowError } from '../consent/connect-flow.ts';

/**
 * The browser half of consent: `/connect/:consentId` sends the user to the app's consent screen,
 * `/oauth/callback` stores the connection and resumes the waiting runs.
 */
export function consentRoutes(flow: ConnectFlow): Router {
  const router = express.Router();

  router.get('/connect/:consentId', async (request, response) => {
    try {
      response.redirect(302, (await flow.authorizeUrlForConsent(request.params.consentId)).toString());
    } catch (error) {
      sendProblem(response, error);
    }
  });

  router.get('/oauth/callback', async (request, response) => {
    try {
      const result = await flow.handleCallback(new URL(request.originalUrl, `${request.protocol}://${request.get('host')}`));
      const appName = connectors.get(result.app)?.displayName ?? result.app;
      const runs = `${result.resumedWorkflows.length} waiting run${result.resumedWorkflows.length === 1 ? '' : 's'}`;
      const message =
        result.outcome === 'connected'
          ? `Connected ${appName} as ${result.externalLogin}. ${runs} resumed; you can close this tab.`
          : `You declined to connect ${appName}. ${runs} stopped.`;
      response.type('html').send(page('Baton', message));
    } catch (error) {
      sendProblem(response, error);
    }
  });

  return router;
}

function sendProblem(response: express.Response, error: unknown): void {
  const known = error instanceof ConnectFlowError;
  response.status(known ? 400 : 502).type('html').send(page('Baton: could not connect', known ? error.message : `The app did not complete the sign-in: ${String(error)}`));
}

function page(title: string, message: string): string {
  const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1><p>${escape(message)}</p></main></body></html>`;
}
