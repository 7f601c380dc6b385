import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { stringParams } from '../pipeline.ts';
import { checkPassword } from '../users.ts';
import { idpConsentPage, idpErrorPage, idpSignInPage } from './pages.ts';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * The pages oidc-provider sends the browser to when it needs the user: sign in, then consent. Mounted
 * under the issuer path, ahead of the provider itself. The interaction is bound to a cookie the provider
 * set on this browser, which is what protects these forms against cross-site request forgery.
 */
export function interactionRoutes(provider: Provider, options: { providerName?: string } = {}): Router {
  const { providerName } = options;
  const router = express.Router();
  const form = express.urlencoded({ extended: false });
  const pathOf = (req: Request, uid: string, step = '') => `${req.baseUrl}/interaction/${encodeURIComponent(uid)}${step}`;

  router.get('/interaction/:uid', noStore, async (req, res) => {
    const interaction = await interactionOf(provider, req, res);
    if (!interaction) return;
    const clientName = await clientNameOf(provider, interaction);
    switch (interaction.prompt.name) {
      case 'login':
        res.type('html').send(idpSignInPage({ action: pathOf(req, interaction.uid, '/login'), clientName, providerName }));
        return;
      case 'consent': {
        const { scopes, resources } = requestedAccess(interaction);
        const user = interaction.session?.accountId ?? '';
        res.type('html').send(idpConsentPage({ action: pathOf(req, interaction.uid, '/confirm'), user, clientName, scopes, resources, providerName }));
        return;
      }
      default:
        showError(res, 400, 'Cannot continue', `The sandbox identity provider has no page for the "${interaction.prompt.name}" prompt.`);
    }
  });

  router.post('/interaction/:uid/login', noStore, form, async (req, res) => {
    const interaction = await interactionOf(provider, req, res, 'login');
    if (!interaction) return;
    const { username = '', password = '' } = stringParams(req.body);
    const user = checkPassword(username, password);
    if (!user) {
      const clientName = await clientNameOf(provider, interaction);
      res
        .status(401)
        .type('html')
        .send(idpSignInPage({ action: pathOf(req, interaction.uid, '/login'), clientName, username, error: 'Incorrect username or password.', providerName }));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
  });

  router.post('/interaction/:uid/confirm', noStore, form, async (req, res) => {
    const interaction = await interactionOf(provider, req, res, 'consent');
    if (!interaction) return;
    const { decision } = stringParams(req.body);
    if (decision === 'deny') {
      const denied = { error: 'access_denied', error_description: 'The user declined to authorize the client.' };
      await provider.interactionFinished(req, res, denied, { mergeWithLastSubmission: false });
      return;
    }
    if (decision !== 'approve') {
      showError(res, 400, 'Invalid answer', 'The consent form must be answered with approve or deny.');
      return;
    }
    const grantId = await grantRequestedAccess(provider, interaction);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  return router;
}

function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set({ 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' });
  next();
}

function showError(res: Response, status: number, title: string, message: string): void {
  res.status(status).type('html').send(idpErrorPage({ title, message }));
}

/** The interaction this browser is in, or undefined once an error page has been sent. */
async function interactionOf(provider: Provider, req: Request, res: Response, expectedPrompt?: string): Promise<Interaction | undefined> {
  let interaction: Interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    showError(res, 400, 'Sign-in expired', 'This sign-in has expired, was already finished, or was started in another browser. Start again from the application.');
    return undefined;
  }
  if (interaction.uid !== req.params.uid || (expectedPrompt && interaction.prompt.name !== expectedPrompt)) {
    showError(res, 400, 'Sign-in out of step', 'This form does not belong to the current step of your sign-in. Start again from the application.');
    return undefined;
  }
  return interaction;
}

async function clientNameOf(provider: Provider, interaction: Interaction): Promise<string> {
  const clientId = String(interaction.params.client_id);
  const client = await provider.Client.find(clientId);
  return client?.clientName ?? clientId;
}

/** What the consent prompt says is still missing: OpenID scopes, and scopes per resource indicator. */
function requestedAccess(interaction: Interaction): { scopes: string[]; resources: string[]; perResource: Record<string, string[]> } {
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const perResource = details.missingResourceScopes ?? {};
  const scopes = [...new Set([...(details.missingOIDCScope ?? []), ...Object.values(perResource).flat()])];
  return { scopes, resources: Object.keys(perResource), perResource };
}

/** Grants exactly what the consent prompt listed as missing, on the existing grant if there is one. */
async function grantRequestedAccess(provider: Provider, interaction: Interaction): Promise<string> {
  const accountId = interaction.session?.accountId;
  const clientId = String(interaction.params.client_id);
  const grant = (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
  const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(requestedAccess(interaction).perResource)) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  return grant.save();
}
